import Foundation
import ParleyClient
import TestSupport
import Testing
import HummingbirdTesting
import NIOCore
import HTTPTypes

@Suite("People over REST", .timeLimit(.minutes(1)))
struct PeopleAPITests {
    @Test("User search never shows emails and pages by cursor", arguments: TestBackend.all)
    func userSearch(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let me = try await app.register("searcher")
            for (name, display) in [("annie", "Annie Apple"), ("bob", "Bob Annan"), ("carl", "Carl")] {
                _ = try await app.register(name, displayName: display)
            }
            let api = app.api(token: me.accessToken)
            let first = try await api.searchUsers(query: .init(q: "ANN", limit: 1)).ok.body.json
            #expect(first.items.map(\.username) == ["annie"])
            let cursor = try #require(first.nextCursor)
            let second = try await api.searchUsers(query: .init(q: "ANN", limit: 1, cursor: cursor)).ok.body.json
            #expect(second.items.map(\.username) == ["bob"])
            #expect(second.nextCursor == nil)

            let raw = try await app.raw(.get, "/api/v1/users?q=annie", headers: [.authorization: "Bearer \(me.accessToken)"])
            #expect(!String(buffer: raw.body).contains("@example.com"))
            _ = try await api.searchUsers(query: .init(q: "   ")).badRequest
            _ = try await api.searchUsers(query: .init(q: "a", limit: 0)).badRequest
            _ = try await api.searchUsers(query: .init(q: "a", limit: 101)).badRequest
            let junk = try await api.searchUsers(query: .init(q: "a", cursor: "not-a-cursor")).badRequest
            #expect(try junk.body.applicationProblemJson.errors?.map(\.field) == ["cursor"])

            let bob = try #require(second.items.first)
            let profile = try await api.getUser(path: .init(userId: bob.id)).ok.body.json
            #expect(profile.displayName == "Bob Annan")
            _ = try await api.getUser(path: .init(userId: UUID().uuidString)).notFound
        }
    }

    @Test("Contacts: add with a nickname, rename, list, remove", arguments: TestBackend.all)
    func contacts(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob", displayName: "Bob")
            let api = app.api(token: alice.accessToken)
            let added = try await api.putContact(path: .init(userId: bob.user.id), body: .json(.init(nickname: "Bobby"))).ok.body.json
            #expect(added.nickname == "Bobby" && added.user.id == bob.user.id)
            let plain = try await api.putContact(path: .init(userId: bob.user.id), body: .json(.init(nickname: ""))).ok.body.json
            #expect(plain.nickname == nil)
            #expect(plain.addedAt == added.addedAt)
            _ = try await api.putContact(path: .init(userId: bob.user.id)).ok
            #expect(try await api.listContacts().ok.body.json.items.map(\.user.username) == ["bob"])
            _ = try await api.putContact(path: .init(userId: alice.user.id)).badRequest
            _ = try await api.putContact(path: .init(userId: UUID().uuidString)).notFound
            _ = try await api.removeContact(path: .init(userId: bob.user.id)).noContent
            _ = try await api.removeContact(path: .init(userId: bob.user.id)).notFound
            #expect(try await api.listContacts().ok.body.json.items.isEmpty)
        }
    }

    @Test("Blocks are listed for the blocker and invisible to the blocked", arguments: TestBackend.all)
    func blocks(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let mallory = try await app.register("mallory")
            let api = app.api(token: alice.accessToken)
            let block = try await api.blockUser(path: .init(userId: mallory.user.id)).ok.body.json
            #expect(block.user.username == "mallory")
            _ = try await api.blockUser(path: .init(userId: mallory.user.id)).ok
            #expect(try await api.listBlocks().ok.body.json.items.map(\.user.id) == [mallory.user.id])

            let blocked = app.api(token: mallory.accessToken)
            #expect(try await blocked.getUser(path: .init(userId: alice.user.id)).ok.body.json.username == "alice")
            #expect(try await blocked.listBlocks().ok.body.json.items.isEmpty)
            let refused = try await blocked.openDirectConversation(body: .json(.init(userId: alice.user.id))).forbidden
            #expect(try refused.body.applicationProblemJson.code == "forbidden")

            _ = try await api.unblockUser(path: .init(userId: mallory.user.id)).noContent
            _ = try await api.unblockUser(path: .init(userId: mallory.user.id)).notFound
            _ = try await blocked.openDirectConversation(body: .json(.init(userId: alice.user.id))).created
        }
    }
}
