import App
import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Concurrent requests that once raced on PostgreSQL: no server error, and the invariants hold.
/// (SQLite's writes take turns, so there they pass by construction.)
@Suite("Races", .timeLimit(.minutes(2)))
struct RaceTests {
    /// Runs `count` requests at once and returns their statuses.
    static func together(_ count: Int, _ request: @escaping @Sendable (Int) async throws -> Int) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<count { group.addTask { try await request(index) } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
    }

    static func json(_ app: TestApp, _ method: HTTPRequest.Method, _ path: String, token: String, body: String) async throws -> Int {
        Int(try await app.raw(method, path, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: body).status.code)
    }

    @Test("Users creating groups with each other at once never deadlock", arguments: TestBackend.all)
    func crossedGroupCreation(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            var pairs: [(Components.Schemas.AuthSession, Components.Schemas.AuthSession)] = []
            for n in 0..<8 { pairs.append((try await app.register("left\(n)"), try await app.register("right\(n)"))) }
            let statuses = try await Self.together(pairs.count * 2) { [pairs] index in
                let (first, second) = pairs[index / 2]
                let (me, other) = index % 2 == 0 ? (first, second) : (second, first)
                return try await Self.json(app, .post, "/api/v1/groups", token: me.accessToken, body: #"{"title":"G","memberIds":["\#(other.user.id)"]}"#)
            }
            #expect(statuses.allSatisfy { $0 == 201 }, "\(statuses)")
        }
    }

    @Test("Two ownership transfers at once leave exactly one owner", arguments: TestBackend.all)
    func concurrentTransfers(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let owner = try await app.register("owner")
            let heirs = [try await app.register("first"), try await app.register("second")]
            let api = app.api(token: owner.accessToken)
            for round in 0..<5 {
                let group = try await api.createGroup(body: .json(.init(title: "G\(round)", memberIds: heirs.map(\.user.id)))).created.body.json.id
                let statuses = try await Self.together(2) { index in
                    try await Self.json(app, .patch, "/api/v1/groups/\(group)/members/\(heirs[index].user.id)", token: owner.accessToken, body: #"{"role":"owner"}"#)
                }
                #expect(statuses.sorted() == [200, 403], "\(statuses)")
                let members = try await app.api(token: heirs[0].accessToken).listMembers(path: .init(conversationId: group)).ok.body.json.items
                #expect(members.filter { $0.role == .owner }.count == 1)
            }
        }
    }

    @Test("Adding one user from many requests at once makes one member", arguments: TestBackend.all)
    func concurrentAddsOfOneUser(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let owner = try await app.register("owner")
            let newcomer = try await app.register("newcomer")
            let group = try await app.api(token: owner.accessToken).createGroup(body: .json(.init(title: "G"))).created.body.json.id
            let statuses = try await Self.together(10) { _ in
                try await Self.json(app, .post, "/api/v1/groups/\(group)/members", token: owner.accessToken, body: #"{"userIds":["\#(newcomer.user.id)"]}"#)
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let conversation = try await app.api(token: owner.accessToken).getConversation(path: .init(conversationId: group)).ok.body.json
            #expect(conversation.memberCount == 2)
            let members = try await app.api(token: owner.accessToken).listMembers(path: .init(conversationId: group)).ok.body.json.items
            #expect(members.count == 2)
        }
    }

    @Test("Adds racing for a group's last places never overshoot its limit", arguments: TestBackend.all)
    func memberCapUnderRace(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.maxGroupMembers = 5 }) { app in
            let owner = try await app.register("owner")
            var others: [Components.Schemas.AuthSession] = []
            for n in 0..<10 { others.append(try await app.register("user\(n)")) }
            let group = try await app.api(token: owner.accessToken).createGroup(body: .json(.init(title: "G"))).created.body.json.id
            let statuses = try await Self.together(others.count) { [others] index in
                try await Self.json(app, .post, "/api/v1/groups/\(group)/members", token: owner.accessToken, body: #"{"userIds":["\#(others[index].user.id)"]}"#)
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
            #expect(statuses.filter { $0 == 200 }.count == 4)
            let members = try await app.api(token: owner.accessToken).listMembers(path: .init(conversationId: group)).ok.body.json.items
            #expect(members.count == 5)
        }
    }
}
