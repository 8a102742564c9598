import Foundation
import App
import Models
import SQLKit
import Store
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// `DELETE /me`, end to end: what goes at once, what the job removes after, what stays for others.
@Suite("Deleting an account", .timeLimit(.minutes(1)))
struct AccountDeletionTests {
    /// Waits until every deletion the server began is complete.
    /// (One connection for the whole wait: a database client opened and closed per poll is churn
    /// the suite does not need.)
    static func waitForDeletions(_ app: TestApp) async throws {
        let finished = try await app.configuration.withStore { store in
            for _ in 0..<200 {
                if try await store.pendingAccountDeletions() == 0 { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        if !finished { Issue.record("the deletion did not finish within 10 s") }
    }

    /// Rows of `table` that are `userID`'s (`column`), straight from the database.
    static func count(_ app: TestApp, _ table: String, _ column: String = "user_id", of userID: String) async throws -> Int {
        try await app.configuration.withStore { store in
            try await store.database.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE \(unsafeRaw: column) = \(bind: UUID(uuidString: userID)!)")
                    .first()?.decode(column: "n", as: Int.self) ?? -1
            }
        }
    }

    @Test("The account goes at once; groups pass on, ties go, direct chats keep the history under \"Deleted user\"", arguments: TestBackend.all)
    func deleteKeepingMessages(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let (alice, bob, carol, dave) = (try await app.register("alice"), try await app.register("bob"), try await app.register("carol"), try await app.register("dave"))
            let a = app.api(token: alice.accessToken)
            let (b, c, d) = (app.api(token: bob.accessToken), app.api(token: carol.accessToken), app.api(token: dave.accessToken))
            // She owns three groups: one with an admin and an older plain member, one with a member, one alone; she is in Bob's.
            let withAdmin = try await a.createGroup(body: .json(.init(title: "Admin", memberIds: [carol.user.id, bob.user.id]))).created.body.json.id
            _ = try await a.updateMember(path: .init(conversationId: withAdmin, userId: bob.user.id), body: .json(.init(role: .admin))).ok
            let withMember = try await a.createGroup(body: .json(.init(title: "Member", memberIds: [carol.user.id]))).created.body.json.id
            let alone = try await a.createGroup(body: .json(.init(title: "Alone"))).created.body.json.id
            let bobs = try await b.createGroup(body: .json(.init(title: "Bob's", memberIds: [alice.user.id]))).created.body.json.id
            let direct = try await d.openDirectConversation(body: .json(.init(userId: alice.user.id))).created.body.json.id
            // What she leaves behind: words, an image in a group, an avatar, an unused upload, contacts, a block, a push subscription.
            let photo = try await MediaAPITests.upload(a, "photo-exif-gps.jpg").created.body.json
            let avatar = try await MediaAPITests.upload(a, "still.webp", as: "image/webp").created.body.json
            _ = try await MediaAPITests.upload(a, "gps.png", as: "image/png").created
            _ = try await a.setAvatar(body: .json(.init(uploadId: avatar.id))).ok
            let shown = try await a.sendMessage(path: .init(conversationId: withAdmin), body: .json(.init(clientMessageId: "p", body: "look", attachments: [photo.id]))).created.body.json
            _ = try await a.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "d", body: "see you, Dave"))).created
            _ = try await b.putContact(path: .init(userId: alice.user.id)).ok
            _ = try await a.putContact(path: .init(userId: carol.user.id)).ok
            _ = try await a.blockUser(path: .init(userId: dave.user.id)).ok
            _ = try await a.unblockUser(path: .init(userId: dave.user.id)).noContent
            _ = try await c.blockUser(path: .init(userId: alice.user.id)).ok

            let wrong = try await a.deleteMe(body: .json(.init(password: "not it")))
            #expect(try wrong.forbidden.body.applicationProblemJson.code == "invalid_credentials")
            _ = try await a.deleteMe(body: .json(.init(password: "correct horse battery"))).accepted

            // At once: signed out everywhere, no signing in, "Deleted user" for everyone else.
            _ = try await a.getMe().unauthorized
            _ = try await app.api.login(body: .json(.init(login: "alice", password: "correct horse battery"))).unauthorized
            let profile = try await b.getUser(path: .init(userId: alice.user.id)).ok.body.json
            #expect(profile.displayName == "Deleted user" && profile.deleted == true && profile.username.hasPrefix("deleted-") && profile.avatarUrl == nil)
            #expect(try await b.searchUsers(query: .init(q: "deleted")).ok.body.json.items.isEmpty)
            #expect(try await app.api.register(body: .json(.init(username: "alice", email: "a2@example.com", password: "correct horse battery"))).conflict != nil)
            #expect(try await app.api.register(body: .json(.init(username: "alice2", email: "alice@example.com", password: "correct horse battery"))).conflict != nil)

            try await Self.waitForDeletions(app)
            // Her groups passed on: to the admin before an older member; to the member; the empty one is gone.
            let adminGroup = try await b.listMembers(path: .init(conversationId: withAdmin)).ok.body.json.items
            #expect(adminGroup.map(\.user.id).sorted() == [bob.user.id, carol.user.id].sorted())
            #expect(adminGroup.first { $0.user.id == bob.user.id }?.role == .owner)
            #expect(try await c.listMembers(path: .init(conversationId: withMember)).ok.body.json.items.map(\.role) == [.owner])
            #expect(try await b.listMembers(path: .init(conversationId: bobs)).ok.body.json.items.map(\.user.id) == [bob.user.id])
            #expect(try await Self.count(app, "conversations", "id", of: alone) == 0)
            // Her words stay where others are, the image too; the direct chat keeps them, and takes nothing new.
            let history = try await b.listMessages(path: .init(conversationId: withAdmin)).ok.body.json.items
            #expect(history.first { $0.id == shown.id }?.body == "look")
            let image = try #require(history.first { $0.id == shown.id }?.attachments?.first)
            #expect(try await app.raw(.get, image.url).status == .ok)
            let chat = try await d.getConversation(path: .init(conversationId: direct)).ok.body.json
            #expect(chat.title == "Deleted user" && chat.lastMessage?.body == "see you, Dave")
            #expect(try await d.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "x", body: "hello?"))).forbidden != nil)
            _ = try await d.openDirectConversation(body: .json(.init(userId: alice.user.id))).ok
            // Every tie is cut, and what no conversation shows is gone.
            #expect(try await b.listContacts().ok.body.json.items.isEmpty)
            #expect(try await c.listBlocks().ok.body.json.items.isEmpty)
            for (table, column) in [("contacts", "owner_id"), ("contacts", "contact_id"), ("blocks", "blocker_id"), ("blocks", "blocked_id"), ("notifications", "user_id"), ("push_subscriptions", "user_id")] {
                #expect(try await Self.count(app, table, column, of: alice.user.id) == 0, "\(table).\(column)")
            }
            #expect(try await Self.count(app, "uploads", "owner_id", of: alice.user.id) == 1, "only the image in the group's message")
            let bobsEvents = try await app.configuration.withStore { try await $0.events(in: .user(UUID(uuidString: bob.user.id)!), after: 0, limit: 100) }
            #expect(bobsEvents.contains { if case .contactRemoved(let data) = $0.payload { data.userID.lowercased == alice.user.id.lowercased() } else { false } })
            let aliceEvents = try await app.configuration.withStore { try await $0.events(in: .user(UUID(uuidString: alice.user.id)!), after: 0, limit: 100) }
            #expect(aliceEvents.contains { if case .sessionRevoked(let data) = $0.payload { data.reason == .accountDeleted } else { false } })
        }
    }

    @Test("With deleteMessages, every message she sent is gone from history, search and the log", arguments: TestBackend.all)
    func deleteWithMessages(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let (alice, bob) = (try await app.register("alice"), try await app.register("bob"))
            let (a, b) = (app.api(token: alice.accessToken), app.api(token: bob.accessToken))
            let group = try await a.createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created.body.json.id
            let direct = try await b.openDirectConversation(body: .json(.init(userId: alice.user.id))).created.body.json.id
            for (n, conversation) in [group, direct, group].enumerated() {
                _ = try await a.sendMessage(path: .init(conversationId: conversation), body: .json(.init(clientMessageId: "\(n)", body: "rosebud \(n)"))).created
            }
            _ = try await b.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "b", body: "rosebud from bob"))).created
            _ = try await a.deleteMe(body: .json(.init(password: "correct horse battery", deleteMessages: true))).accepted
            try await Self.waitForDeletions(app)

            for conversation in [group, direct] {
                let items = try await b.listMessages(path: .init(conversationId: conversation)).ok.body.json.items
                #expect(items.filter { $0.senderId == alice.user.id }.allSatisfy { $0.deleted == true && $0.body == nil })
            }
            #expect(try await b.searchMessages(query: .init(q: "rosebud")).ok.body.json.items.map(\.message.body) == ["rosebud from bob"])
            let log = try await b.listConversationEvents(path: .init(conversationId: group)).ok.body.json.items
            #expect(!"\(log)".contains("rosebud 0") && !"\(log)".contains("rosebud 2"))
        }
    }

    @Test("Messages sent to her while she is deleted either arrive before or are refused; none is lost or half-done", arguments: TestBackend.all)
    func deletionRacesIncomingMessages(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let (alice, bob) = (try await app.register("alice"), try await app.register("bob"))
            let (a, b) = (app.api(token: alice.accessToken), app.api(token: bob.accessToken))
            let group = try await b.createGroup(body: .json(.init(title: "G", memberIds: [alice.user.id]))).created.body.json.id
            let direct = try await b.openDirectConversation(body: .json(.init(userId: alice.user.id))).created.body.json.id
            let outcomes = try await withThrowingTaskGroup(of: (String, Int).self) { tasks in
                tasks.addTask {
                    try await Task.sleep(for: .milliseconds(20))
                    _ = try await a.deleteMe(body: .json(.init(password: "correct horse battery"))).accepted
                    return ("delete", 202)
                }
                for n in 0..<40 {
                    tasks.addTask {
                        let conversation = n.isMultiple(of: 2) ? group : direct
                        let answer = try await b.sendMessage(path: .init(conversationId: conversation), body: .json(.init(clientMessageId: "\(n)", body: "@alice \(n)")))
                        switch answer {
                        case .created: return (conversation, 201)
                        case .forbidden: return (conversation, 403)
                        default: return (conversation, 0)
                        }
                    }
                }
                return try await tasks.reduce(into: [(String, Int)]()) { $0.append($1) }
            }
            try await Self.waitForDeletions(app)
            #expect(outcomes.allSatisfy { [201, 202].contains($0.1) || ($0.0 == direct && $0.1 == 403) }, "\(outcomes)")
            for conversation in [group, direct] {
                let sent = outcomes.filter { $0.0 == conversation && $0.1 == 201 }.count
                let history = try await b.listMessages(path: .init(conversationId: conversation), query: .init(limit: 100)).ok.body.json.items
                #expect(history.count == sent, "every accepted message is there, once")
            }
            #expect(try await Self.count(app, "notifications", of: alice.user.id) == 0)
            #expect(try await Self.count(app, "members", of: alice.user.id) == 1, "the direct conversation only")
        }
    }
}
