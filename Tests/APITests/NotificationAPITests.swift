import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import Models
import Store
import TestSupport
import Testing

@Suite("Mentions and the notification inbox", .timeLimit(.minutes(1)))
struct NotificationAPITests {
    /// Alice owns a group with Bob, Carol and Dave; Erin is outside it.
    struct Fixture {
        var app: TestApp
        var users: [String: Components.Schemas.AuthSession]
        var group: String

        func api(_ name: String) -> Client { app.api(token: users[name]!.accessToken) }
        func id(_ name: String) -> String { users[name]!.user.id }

        func send(_ name: String, _ body: String, to conversation: String? = nil, replyTo: String? = nil) async throws -> Components.Schemas.Message {
            try await api(name).sendMessage(
                path: .init(conversationId: conversation ?? group),
                body: .json(.init(clientMessageId: UUID().uuidString, body: body, replyToId: replyTo))
            ).created.body.json
        }

        func inbox(_ name: String, unread: Bool? = nil) async throws -> Components.Schemas.NotificationPage {
            try await api(name).listNotifications(query: .init(unread: unread)).ok.body.json
        }

        /// The types of the events in a user's own stream, in order.
        func userEvents(_ name: String) async throws -> [Models.Event] {
            let stream = StreamID.user(UUID(uuidString: id(name))!)
            return try await app.configuration.withStore { store in try await store.events(in: stream, after: 0, limit: 1000) }
        }
    }

    func withGroup(_ backend: TestBackend, _ body: @escaping @Sendable (Fixture) async throws -> Void) async throws {
        try await withApp(backend) { app in
            var users: [String: Components.Schemas.AuthSession] = [:]
            for name in ["alice", "bob", "carol", "dave", "erin"] { users[name] = try await app.register(name) }
            let members = ["bob", "carol", "dave"].map { users[$0]!.user.id }
            let group = try await app.api(token: users["alice"]!.accessToken)
                .createGroup(body: .json(.init(title: "Tea party", memberIds: members))).created.body.json.id
            try await body(Fixture(app: app, users: users, group: group))
        }
    }

    @Test("A mention names members only, is recorded on the message, and notifies each named member once", arguments: TestBackend.all)
    func mentions(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            // Being added to the group was the first notification of each member.
            for name in ["bob", "carol", "dave"] {
                let inbox = try await f.inbox(name)
                #expect(inbox.items.map(\.kind) == [.addedToGroup] && inbox.items.first?.actor.id == f.id("alice"))
                #expect(inbox.items.first?.messageId == nil)
            }
            _ = try await f.api("bob").readNotifications(body: .json(.init(before: Date().addingTimeInterval(1)))).ok

            let message = try await f.send("alice", "Hi @BOB and @carol, mail erin@example.com, `@dave` is code, @erin is not here, @alice is me")
            #expect(message.mentions == [f.id("bob"), f.id("carol")])
            #expect(message.mentionsAll == false)
            let bob = try await f.inbox("bob", unread: true)
            #expect(bob.unreadCount == 1 && bob.items.count == 1)
            let mention = try #require(bob.items.first)
            #expect(mention.kind == .mention && mention.messageId == message.id && mention.conversationId == f.group)
            #expect(mention.excerpt == message.body && mention.readAt == nil && mention.actor.username == "alice")
            #expect(try await f.inbox("dave", unread: true).unreadCount == 1, "only the group invitation")
            #expect(try await f.inbox("erin").items.isEmpty)
            #expect(try await f.inbox("alice").items.isEmpty, "nobody is told of their own words")

            // History and the conversation list say it too.
            let history = try await f.api("bob").listMessages(path: .init(conversationId: f.group)).ok.body.json
            #expect(history.items.last?.mentions == [f.id("bob"), f.id("carol")])
            let list = try await f.api("bob").listConversations().ok.body.json
            #expect(list.items.first?.mentionCount == 1)

            // The user's stream got exactly one notification.created for it.
            let created = try await f.userEvents("bob").filter { $0.type == .notificationCreated }
            #expect(created.count == 2, "the invitation and the mention")
            if case .notificationCreated(let data) = created.last?.payload {
                #expect(data.notification.id.uuidString.lowercased() == mention.id.lowercased() && data.unreadCount == 1)
            } else {
                Issue.record("not a notification.created: \(String(describing: created.last))")
            }
        }
    }

    @Test("@all notifies everyone when an admin or the owner writes it, and is plain text from anyone else", arguments: TestBackend.all)
    func everyone(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let fromMember = try await f.send("bob", "@all tea is ready")
            #expect(fromMember.mentionsAll == false && (fromMember.mentions ?? []).isEmpty)
            #expect(try await f.inbox("carol", unread: true).unreadCount == 1, "the invitation only")

            let fromOwner = try await f.send("alice", "@all tea is ready, @bob too")
            #expect(fromOwner.mentionsAll == true && fromOwner.mentions == [f.id("bob")])
            for name in ["bob", "carol", "dave"] {
                let inbox = try await f.inbox(name, unread: true)
                #expect(inbox.items.filter { $0.messageId == fromOwner.id }.count == 1, "\(name): once, whatever the reasons")
            }
        }
    }

    @Test("Replies and direct messages notify; blocks, departures and one's own words do not", arguments: TestBackend.all)
    func kinds(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let question = try await f.send("bob", "Why is a raven like a writing desk?")
            _ = try await f.send("carol", "No idea", replyTo: question.id)
            _ = try await f.send("bob", "Nor I", replyTo: question.id)
            let replies = try await f.inbox("bob").items.filter { $0.kind == .reply }
            #expect(replies.count == 1 && replies.first?.actor.username == "carol")

            let direct = try await f.api("alice").openDirectConversation(body: .json(.init(userId: f.id("erin")))).created.body.json.id
            let hello = try await f.send("alice", "Hello @erin", to: direct)
            let erin = try await f.inbox("erin").items
            #expect(erin.count == 1 && erin.first?.kind == .mention && erin.first?.messageId == hello.id, "a mention counts before direct")
            _ = try await f.send("alice", "Are you there?", to: direct)
            #expect(try await f.inbox("erin").items.first?.kind == .direct)
            #expect(try await f.inbox("alice").items.isEmpty)

            // Dave blocks Alice: she can still name him in the group, but he hears nothing of it.
            _ = try await f.api("dave").blockUser(path: .init(userId: f.id("alice"))).ok
            let blocked = try await f.send("alice", "@dave?")
            #expect(blocked.mentions == [f.id("dave")])
            #expect(try await f.inbox("dave").items.allSatisfy { $0.messageId != blocked.id })

            // Carol leaves: she can no longer be named there.
            _ = try await f.api("carol").removeMember(path: .init(conversationId: f.group, userId: f.id("carol"))).noContent
            let afterLeaving = try await f.send("alice", "@carol?")
            #expect((afterLeaving.mentions ?? []).isEmpty)
            #expect(try await f.inbox("carol").items.allSatisfy { $0.messageId != afterLeaving.id })
        }
    }

    @Test("Edits: a new mention notifies once, a removed one un-notifies nobody, excerpts follow; deletion takes the notifications", arguments: TestBackend.all)
    func editsAndDeletes(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let message = try await f.send("alice", "Tea for @bob")
            let edited = try await f.api("alice").editMessage(path: .init(messageId: message.id), body: .json(.init(body: "Tea for @bob and @carol"))).ok.body.json
            #expect(edited.mentions == [f.id("bob"), f.id("carol")])
            _ = try await f.api("alice").editMessage(path: .init(messageId: message.id), body: .json(.init(body: "Tea for @carol"))).ok
            _ = try await f.api("alice").editMessage(path: .init(messageId: message.id), body: .json(.init(body: "Tea for @carol and @bob"))).ok
            // Every edit event says whom the text names now, as it says the text.
            let edits = try await f.api("bob").listConversationEvents(path: .init(conversationId: f.group)).ok.body.json.items.compactMap { event in
                if case .message_updated(let updated) = event { return updated.data.mentions ?? [] }
                return nil
            }
            #expect(edits == Array(repeating: [f.id("carol"), f.id("bob")], count: 3))
            for name in ["bob", "carol"] {
                let about = try await f.inbox(name).items.filter { $0.messageId == message.id }
                #expect(about.count == 1, "\(name) is told once")
                #expect(about.first?.excerpt == "Tea for @carol and @bob", "the excerpt follows the text")
            }

            _ = try await f.api("alice").deleteMessage(path: .init(messageId: message.id)).noContent
            #expect(try await f.inbox("bob").items.allSatisfy { $0.messageId != message.id })
            let removed = try await f.userEvents("carol").filter { $0.type == .notificationsRemoved }
            #expect(removed.count == 1)
            let tombstone = try await f.api("bob").listMessages(path: .init(conversationId: f.group)).ok.body.json.items.last
            #expect(tombstone?.deleted == true && (tombstone?.mentions ?? []).isEmpty)
        }
    }

    @Test("Reading: by id, all before a time, or by reading the conversation; paged newest first", arguments: TestBackend.all)
    func reading(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            var sent: [Components.Schemas.Message] = []
            for n in 0..<5 { sent.append(try await f.send("alice", "@bob number \(n)")) }
            let first = try await f.api("bob").listNotifications(query: .init(limit: 2)).ok.body.json
            #expect(first.items.map(\.messageId) == [sent[4].id, sent[3].id] && first.unreadCount == 6)
            let second = try await f.api("bob").listNotifications(query: .init(limit: 2, cursor: first.nextCursor)).ok.body.json
            #expect(second.items.map(\.messageId) == [sent[2].id, sent[1].id])

            let one = try await f.api("bob").readNotifications(body: .json(.init(ids: [first.items[0].id]))).ok.body.json
            #expect(one.unreadCount == 5)
            // Others' ids are ignored.
            let carols = try await f.inbox("carol").items.map(\.id)
            #expect(try await f.api("bob").readNotifications(body: .json(.init(ids: carols))).ok.body.json.unreadCount == 5)
            #expect(try await f.inbox("carol", unread: true).unreadCount == 1)

            // Reading the conversation up to the third message reads the notifications it covers.
            _ = try await f.api("bob").markRead(path: .init(conversationId: f.group), body: .json(.init(seq: sent[2].seq))).noContent
            let unread = try await f.inbox("bob", unread: true)
            #expect(unread.items.compactMap(\.messageId) == [sent[3].id] && unread.unreadCount == 2, "and the invitation")
            #expect(try await f.api("bob").listConversations().ok.body.json.items.first?.mentionCount == 1)
            let reads = try await f.userEvents("bob").filter { $0.type == .notificationsRead }
            #expect(reads.count == 2)

            _ = try await f.api("bob").readNotifications(body: .json(.init(before: Date().addingTimeInterval(1)))).ok
            #expect(try await f.inbox("bob", unread: true).items.isEmpty)

            // `before` counts its own second in (createdAt shows whole seconds), and takes the
            // fractional seconds JavaScript's toISOString() writes.
            _ = try await f.send("alice", "@bob once more")
            let newest = try #require(try await f.inbox("bob", unread: true).items.first)
            var fractional = try await f.app.raw(
                .post, "/api/v1/notifications/read",
                headers: [.authorization: "Bearer \(f.users["bob"]!.accessToken)", .contentType: "application/json"],
                body: #"{"before":"2000-01-01T00:00:00.250Z"}"#
            )
            #expect(fractional.status == .ok)
            let shown = ISO8601DateFormatter().string(from: newest.createdAt)
            fractional = try await f.app.raw(
                .post, "/api/v1/notifications/read",
                headers: [.authorization: "Bearer \(f.users["bob"]!.accessToken)", .contentType: "application/json"],
                body: #"{"before":"\#(shown)"}"#
            )
            #expect(fractional.status == .ok)
            #expect(try await f.inbox("bob", unread: true).items.isEmpty, "the newest one's own createdAt marks it read")

            // Neither ids nor a time: a precise 400.
            let empty = try await f.app.raw(
                .post, "/api/v1/notifications/read",
                headers: [.authorization: "Bearer \(f.users["bob"]!.accessToken)", .contentType: "application/json"], body: "{}"
            )
            #expect(empty.status == .badRequest)
            #expect(try empty.problem.code == "validation_failed")
        }
    }
}
