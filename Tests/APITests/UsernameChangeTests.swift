import Foundation
import App
import Models
import Store
import ParleyClient
import TestSupport
import Testing

/// `PATCH /me {username}`: the rules of registration, a wait between changes, and everyone who
/// sees the user told.
@Suite("Changing the username", .timeLimit(.minutes(1)))
struct UsernameChangeTests {
    @Test("A new username is validated, unique in any case, announced to co-members and contacts, and waits 30 days to change again", arguments: TestBackend.all)
    func rename(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withApp(backend, configure: { $0.now = { clock.now } }) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let carol = try await app.register("carol")
            let aliceAPI = app.api(token: alice.accessToken)
            let bobAPI = app.api(token: bob.accessToken)
            let group = try await aliceAPI.createGroup(body: .json(.init(title: "Tea", memberIds: [bob.user.id]))).created.body.json.id
            _ = try await app.api(token: carol.accessToken).putContact(path: .init(userId: alice.user.id), body: .json(.init(nickname: "Al"))).ok
            let mention = try await bobAPI.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "m1", body: "Hi @alice"))).created.body.json
            #expect(mention.mentions == [alice.user.id])

            let invalid = try await aliceAPI.updateMe(body: .json(.init(username: "a!")))
            #expect(try invalid.badRequest.body.applicationProblemJson.errors?.map(\.field) == ["username"])
            let taken = try await aliceAPI.updateMe(body: .json(.init(username: "BOB")))
            #expect(try taken.conflict.body.applicationProblemJson.code == "username_taken")

            let renamed = try await aliceAPI.updateMe(body: .json(.init(username: "Alice.Liddell"))).ok.body.json
            #expect(renamed.username == "alice.liddell" && renamed.email == "alice@example.com")
            #expect(try await app.api.login(body: .json(.init(login: "Alice.Liddell", password: "correct horse battery"))).ok.body.json.user.id == alice.user.id)
            _ = try await app.api.login(body: .json(.init(login: "alice", password: "correct horse battery"))).unauthorized
            // The old mention still names her: mentions keep ids.
            let history = try await bobAPI.listMessages(path: .init(conversationId: group)).ok.body.json
            #expect(history.items.first { $0.id == mention.id }?.mentions == [alice.user.id])

            // Her own devices, the group, and the contact who has her in their address book hear of it.
            let (own, inGroup, asContact) = try await app.configuration.withStore { store in
                (
                    try await store.events(in: .user(UUID(uuidString: alice.user.id)!), after: 0, limit: 100),
                    try await store.events(in: .conversation(UUID(uuidString: group)!), after: 0, limit: 100),
                    try await store.events(in: .user(UUID(uuidString: carol.user.id)!), after: 0, limit: 100)
                )
            }
            #expect(own.compactMap { if case .userUpdated(let user) = $0.payload { user.username } else { nil } } == ["alice.liddell"])
            let profiles = inGroup.compactMap { if case .profileUpdated(let data) = $0.payload { data } else { nil } }
            #expect(profiles.map(\.user.username) == ["alice.liddell"] && profiles.first?.conversationID.lowercased == group.lowercased())
            #expect(profiles.first?.user.lastSeenAt == nil)
            let contacts = asContact.compactMap { if case .contactUpdated(let contact) = $0.payload { contact } else { nil } }
            #expect(contacts.map(\.user.username) == ["alice.liddell"] && contacts.first?.nickname == "Al")

            // The old name is free; hers is changed for 30 days, though her own name in another case changes nothing.
            #expect(try await bobAPI.updateMe(body: .json(.init(username: "alice"))).ok.body.json.username == "alice")
            let soon = try await aliceAPI.updateMe(body: .json(.init(username: "alice.l")))
            let refused = try soon.tooManyRequests
            #expect(try refused.body.applicationProblemJson.code == "rate_limited")
            #expect(refused.headers.retryAfter == 30 * 24 * 3600)
            #expect(try await aliceAPI.updateMe(body: .json(.init(displayName: "Alice L.", username: "ALICE.LIDDELL"))).ok.body.json.displayName == "Alice L.")
            clock.advance(by: 30 * 24 * 3600)
            let later = try await app.api.login(body: .json(.init(login: "alice.liddell", password: "correct horse battery"))).ok.body.json
            #expect(try await app.api(token: later.accessToken).updateMe(body: .json(.init(username: "alice.l"))).ok.body.json.username == "alice.l")
        }
    }

    @Test("The wait is the server's to set; 0 lets names change at will", arguments: [TestBackend.sqlite])
    func configurableWait(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.accounts.usernameChangeInterval = 0 }) { app in
            let dan = app.api(token: try await app.register("dan").accessToken)
            for name in ["dan1", "dan2", "dan3"] {
                #expect(try await dan.updateMe(body: .json(.init(username: name))).ok.body.json.username == name)
            }
        }
    }
}
