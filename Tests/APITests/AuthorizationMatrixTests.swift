import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import NIOCore

/// Every conversation route against every kind of caller: anonymous, stranger, member, admin, owner.
@Suite("Authorization matrix", .timeLimit(.minutes(2)))
struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable, CustomStringConvertible {
        case anonymous, stranger, member, admin, owner
        var description: String { rawValue }
    }

    /// A group with an owner, an admin and a member, a message by each of owner and member, and
    /// two users outside it.
    struct Fixture {
        var tokens: [Caller: String]
        var ids: [Caller: String]
        var group: String
        var memberMessage: String
        var ownerMessage: String
        var outsider: String

        static func make(_ app: TestApp, tag: String) async throws -> Fixture {
            var tokens: [Caller: String] = [:]
            var ids: [Caller: String] = [:]
            for caller in Caller.allCases where caller != .anonymous {
                let session = try await app.register("\(caller.rawValue)_\(tag)")
                tokens[caller] = session.accessToken
                ids[caller] = session.user.id
            }
            let outsider = try await app.register("outsider_\(tag)").user.id
            let owner = app.api(token: tokens[.owner]!)
            let group = try await owner.createGroup(
                body: .json(.init(title: "Matrix", memberIds: [ids[.admin]!, ids[.member]!]))
            ).created.body.json.id
            _ = try await owner.updateMember(path: .init(conversationId: group, userId: ids[.admin]!), body: .json(.init(role: .admin))).ok
            let memberMessage = try await app.api(token: tokens[.member]!).sendMessage(
                path: .init(conversationId: group),
                body: .json(.init(clientMessageId: "m", body: "from the member"))
            ).created.body.json.id
            let ownerMessage = try await owner.sendMessage(
                path: .init(conversationId: group),
                body: .json(.init(clientMessageId: "o", body: "from the owner"))
            ).created.body.json.id
            return Fixture(tokens: tokens, ids: ids, group: group, memberMessage: memberMessage, ownerMessage: ownerMessage, outsider: outsider)
        }
    }

    struct Route: CustomStringConvertible, Sendable {
        var name: String
        var method: HTTPRequest.Method
        var path: @Sendable (Fixture, Caller) -> String
        var body: @Sendable (Fixture, Caller) -> String?
        /// anonymous, stranger, member, admin, owner
        var expected: [Int]
        var description: String { name }
    }

    static let routes: [Route] = [
        Route(name: "GET conversation", method: .get, path: { f, _ in "/api/v1/conversations/\(f.group)" }, body: { _, _ in nil }, expected: [401, 404, 200, 200, 200]),
        Route(name: "GET members", method: .get, path: { f, _ in "/api/v1/conversations/\(f.group)/members" }, body: { _, _ in nil }, expected: [401, 404, 200, 200, 200]),
        Route(name: "GET messages", method: .get, path: { f, _ in "/api/v1/conversations/\(f.group)/messages" }, body: { _, _ in nil }, expected: [401, 404, 200, 200, 200]),
        Route(name: "POST message", method: .post, path: { f, _ in "/api/v1/conversations/\(f.group)/messages" }, body: { _, c in #"{"clientMessageId":"matrix-\#(c)","body":"hi"}"# }, expected: [401, 404, 201, 201, 201]),
        Route(name: "POST read", method: .post, path: { f, _ in "/api/v1/conversations/\(f.group)/read" }, body: { _, _ in #"{"seq":3}"# }, expected: [401, 404, 204, 204, 204]),
        Route(name: "GET events", method: .get, path: { f, _ in "/api/v1/conversations/\(f.group)/events" }, body: { _, _ in nil }, expected: [401, 404, 200, 200, 200]),
        Route(name: "GET search in conversation", method: .get, path: { f, _ in "/api/v1/search/messages?q=member&conversationId=\(f.group)" }, body: { _, _ in nil }, expected: [401, 404, 200, 200, 200]),
        Route(name: "PATCH group", method: .patch, path: { f, _ in "/api/v1/groups/\(f.group)" }, body: { _, _ in #"{"title":"New"}"# }, expected: [401, 404, 403, 200, 200]),
        Route(name: "DELETE group", method: .delete, path: { f, _ in "/api/v1/groups/\(f.group)" }, body: { _, _ in nil }, expected: [401, 404, 403, 403, 204]),
        Route(name: "POST members", method: .post, path: { f, _ in "/api/v1/groups/\(f.group)/members" }, body: { f, _ in #"{"userIds":["\#(f.outsider)"]}"# }, expected: [401, 404, 403, 200, 200]),
        Route(name: "DELETE member (the member)", method: .delete, path: { f, _ in "/api/v1/groups/\(f.group)/members/\(f.ids[.member]!)" }, body: { _, _ in nil }, expected: [401, 404, 204, 204, 204]),
        Route(name: "DELETE member (the admin)", method: .delete, path: { f, _ in "/api/v1/groups/\(f.group)/members/\(f.ids[.admin]!)" }, body: { _, _ in nil }, expected: [401, 404, 403, 204, 204]),
        Route(name: "DELETE member (the owner)", method: .delete, path: { f, _ in "/api/v1/groups/\(f.group)/members/\(f.ids[.owner]!)" }, body: { _, _ in nil }, expected: [401, 404, 403, 403, 409]),
        Route(name: "PATCH member role", method: .patch, path: { f, _ in "/api/v1/groups/\(f.group)/members/\(f.ids[.member]!)" }, body: { _, _ in #"{"role":"admin"}"# }, expected: [401, 404, 403, 403, 200]),
        Route(name: "PATCH member's message", method: .patch, path: { f, _ in "/api/v1/messages/\(f.memberMessage)" }, body: { _, _ in #"{"body":"edited"}"# }, expected: [401, 404, 200, 403, 403]),
        Route(name: "DELETE member's message", method: .delete, path: { f, _ in "/api/v1/messages/\(f.memberMessage)" }, body: { _, _ in nil }, expected: [401, 404, 204, 204, 204]),
        Route(name: "DELETE owner's message", method: .delete, path: { f, _ in "/api/v1/messages/\(f.ownerMessage)" }, body: { _, _ in nil }, expected: [401, 404, 403, 204, 204]),
        Route(name: "PUT reaction", method: .put, path: { f, _ in "/api/v1/messages/\(f.memberMessage)/reactions/%F0%9F%91%8D" }, body: { _, _ in nil }, expected: [401, 404, 204, 204, 204]),
        Route(name: "DELETE reaction", method: .delete, path: { f, _ in "/api/v1/messages/\(f.memberMessage)/reactions/%F0%9F%91%8D" }, body: { _, _ in nil }, expected: [401, 404, 204, 204, 204]),
    ]

    @Test("Anonymous 401, strangers 404, members lacking the role 403, else success", arguments: TestBackend.all)
    func everyRouteForEveryCaller(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            var fixtures = 0
            for route in Self.routes {
                for (caller, expected) in zip(Caller.allCases, route.expected) {
                    // A fresh group for each call, so no call depends on what another changed.
                    fixtures += 1
                    let fixture = try await Fixture.make(app, tag: "\(fixtures)")
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if caller != .anonymous { headers[.authorization] = "Bearer \(fixture.tokens[caller]!)" }
                    let response = try await app.raw(route.method, route.path(fixture, caller), headers: headers, body: route.body(fixture, caller))
                    #expect(Int(response.status.code) == expected, "\(route.name) as \(caller): \(String(buffer: response.body))")
                    if expected >= 400 {
                        #expect(response.headers[.contentType] == "application/problem+json", "\(route.name) as \(caller)")
                    }
                }
            }
        }
    }

    @Test("Junk ids in paths are 404, never 500", arguments: TestBackend.all)
    func junkIDs(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let token = try await app.register("someone").accessToken
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/api/v1/conversations/not-an-id", nil as String?),
                (.get, "/api/v1/conversations/\(UUID().uuidString)/messages", nil),
                (.patch, "/api/v1/messages/123", #"{"body":"x"}"#),
                (.delete, "/api/v1/groups/abc/members/def", nil),
                (.get, "/api/v1/users/zzz", nil),
                (.put, "/api/v1/contacts/\(UUID().uuidString)", nil),
            ] {
                let response = try await app.raw(method, path, headers: headers, body: body)
                #expect(response.status == .notFound, "\(method) \(path): \(String(buffer: response.body))")
            }
        }
    }
}
