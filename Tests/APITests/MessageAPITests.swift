import Foundation
import NIOCore
import ParleyClient
import HTTPTypes
import TestSupport
import Testing
import HummingbirdTesting

@Suite("Messages over REST", .timeLimit(.minutes(1)))
struct MessageAPITests {
    /// Alice (the owner) and Bob in one group.
    struct Fixture {
        var app: TestApp
        var alice: Client
        var bob: Client
        var group: String
        var aliceToken: String
    }

    func withGroup(_ backend: TestBackend, _ body: @escaping @Sendable (Fixture) async throws -> Void) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let group = try await app.api(token: alice.accessToken).createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created.body.json.id
            try await body(Fixture(app: app, alice: app.api(token: alice.accessToken), bob: app.api(token: bob.accessToken), group: group, aliceToken: alice.accessToken))
        }
    }

    @Test("Sending is idempotent per clientMessageId: a repeat is 200 with the original", arguments: TestBackend.all)
    func idempotentSends(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let alice = f.alice
            let group = f.group
            let first = try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "abc", body: "  Hello  "))).created.body.json
            #expect(first.body == "Hello" && first.clientMessageId == "abc" && first.reactions.isEmpty && !first.deleted)
            let repeated = try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "abc", body: "different"))).ok.body.json
            #expect(repeated == first)
        }
    }

    @Test("Thirty concurrent sends with one clientMessageId make one message", arguments: TestBackend.all)
    func concurrentSends(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let alice = f.alice
            let group = f.group
            let statuses = try await withThrowingTaskGroup(of: (String, Int).self) { tasks in
                for _ in 0..<30 {
                    tasks.addTask {
                        switch try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "retry", body: "once"))) {
                        case .created(let created): return (try created.body.json.id, 201)
                        case .ok(let ok): return (try ok.body.json.id, 200)
                        default: return ("", 0)
                        }
                    }
                }
                return try await tasks.reduce(into: [(String, Int)]()) { $0.append($1) }
            }
            #expect(Set(statuses.map(\.0)).count == 1)
            #expect(statuses.filter { $0.1 == 201 }.count == 1 && statuses.filter { $0.1 == 200 }.count == 29)
            #expect(try await alice.listMessages(path: .init(conversationId: group)).ok.body.json.items.count == 1)
        }
    }

    @Test("Bodies: 1-4000 characters after trimming, counted as characters", arguments: TestBackend.all)
    func bodyLimits(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let alice = f.alice
            let group = f.group
            let zalgo = "Z" + String(repeating: "\u{0301}", count: 20_000)  // one character, 40 KB
            for (id, text) in [("a", " \n "), ("b", String(repeating: "x", count: 4001)), ("c", "bell\u{7}"), ("z", zalgo)] {
                let refused = try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: id, body: text))).badRequest
                #expect(try refused.body.applicationProblemJson.errors?.map(\.field) == ["body"])
            }
            let emoji = String(repeating: "👍🏽", count: 4000)
            #expect(try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "d", body: emoji))).created.body.json.body == emoji)
            _ = try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "", body: "x"))).badRequest
            _ = try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "e", body: "x", replyToId: "junk"))).badRequest
        }
    }

    @Test("History: limits are validated and pages chain without gaps", arguments: TestBackend.all)
    func history(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let app = f.app
            let alice = f.alice
            let group = f.group
            var seqs: [Int64] = []
            for n in 0..<12 {
                seqs.append(try await alice.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "\(n)", body: "m\(n)"))).created.body.json.seq)
            }
            for query in ["limit=0", "limit=-5", "limit=201", "limit=abc", "before=-1", "after=x", "before=2&limit=1.5"] {
                let response = try await app.raw(.get, "/api/v1/conversations/\(group)/messages?\(query)", headers: [.authorization: "Bearer \(f.aliceToken)"])
                #expect(response.status == .badRequest, "\(query)")
                // The problem names the parameter at fault, whether out of range or not a number.
                let named = query.split(separator: "&").last!.split(separator: "=")[0]
                #expect(String(buffer: response.body).contains(#""field":"\#(named)""#), "\(query): \(String(buffer: response.body))")
            }
            var collected: [Int64] = []
            var before: Int64?
            repeat {
                let page = try await alice.listMessages(path: .init(conversationId: group), query: .init(before: before, limit: 5)).ok.body.json
                collected = page.items.map(\.seq) + collected
                before = page.hasMore ? page.items.first?.seq : nil
            } while before != nil
            #expect(collected == seqs)
            let newer = try await alice.listMessages(path: .init(conversationId: group), query: .init(after: seqs[9])).ok.body.json
            #expect(newer.items.map(\.seq) == Array(seqs[10...]) && !newer.hasMore)
        }
    }

    @Test("Edits, deletes and reactions, with emoji validated", arguments: TestBackend.all)
    func editsAndReactions(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let alice = f.alice
            let bob = f.bob
            let group = f.group
            let message = try await bob.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "1", body: "Helo"))).created.body.json
            _ = try await alice.editMessage(path: .init(messageId: message.id), body: .json(.init(body: "x"))).forbidden
            let edited = try await bob.editMessage(path: .init(messageId: message.id), body: .json(.init(body: "Hello"))).ok.body.json
            #expect(edited.body == "Hello" && edited.editedAt != nil)

            for emoji in ["👍", "👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️", "1️⃣"] {
                _ = try await alice.addReaction(path: .init(messageId: message.id, emoji: emoji)).noContent
            }
            _ = try await alice.addReaction(path: .init(messageId: message.id, emoji: "👍")).noContent
            _ = try await bob.addReaction(path: .init(messageId: message.id, emoji: "👍")).noContent
            for junk in ["1", "a", "👍👍", "#", "hello"] {
                _ = try await alice.addReaction(path: .init(messageId: message.id, emoji: junk)).badRequest
            }
            let page = try await bob.listMessages(path: .init(conversationId: group)).ok.body.json
            let thumbs = try #require(page.items.first?.reactions.first)
            #expect(thumbs.emoji == "👍" && thumbs.count == 2 && thumbs.me)
            #expect(page.items.first?.reactions.count == 6)
            _ = try await alice.removeReaction(path: .init(messageId: message.id, emoji: "👍")).noContent
            _ = try await alice.removeReaction(path: .init(messageId: message.id, emoji: "👍")).noContent

            _ = try await alice.deleteMessage(path: .init(messageId: message.id)).noContent  // the owner, in a group
            let tombstone = try #require(try await bob.listMessages(path: .init(conversationId: group)).ok.body.json.items.first)
            #expect(tombstone.deleted && tombstone.body == nil && tombstone.reactions.isEmpty)
            _ = try await bob.editMessage(path: .init(messageId: message.id), body: .json(.init(body: "again"))).conflict
            _ = try await bob.addReaction(path: .init(messageId: message.id, emoji: "👍")).conflict
            _ = try await bob.deleteMessage(path: .init(messageId: message.id)).notFound
        }
    }

    @Test("Read positions, unread counts and receipts", arguments: TestBackend.all)
    func receipts(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let alice = f.alice
            let bob = f.bob
            let group = f.group
            var last: Int64 = 0
            for n in 0..<3 {
                last = try await bob.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "\(n)", body: "m"))).created.body.json.seq
            }
            #expect(try await alice.getConversation(path: .init(conversationId: group)).ok.body.json.unreadCount == 3)
            _ = try await alice.markRead(path: .init(conversationId: group), body: .json(.init(seq: last))).noContent
            _ = try await alice.markRead(path: .init(conversationId: group), body: .json(.init(seq: 1))).noContent
            #expect(try await alice.getConversation(path: .init(conversationId: group)).ok.body.json.unreadCount == 0)
            let members = try await bob.listMembers(path: .init(conversationId: group)).ok.body.json.items
            #expect(members.first { $0.user.username == "alice" }?.lastReadSeq == last)
            _ = try await alice.markRead(path: .init(conversationId: group), body: .json(.init(seq: -1))).badRequest
        }
    }

    @Test("Search: highlighted, escaped snippets from the caller's conversations only", arguments: TestBackend.all)
    func search(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let app = f.app
            let alice = f.alice
            let bob = f.bob
            let group = f.group
            _ = try await bob.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "1", body: "<script>alert(1)</script> the queen is running"))).created
            let eve = try await app.register("eve")
            let hits = try await alice.searchMessages(query: .init(q: "runs")).ok.body.json.items
            #expect(hits.count == 1)
            let snippet = try #require(hits.first?.snippet)
            #expect(snippet.contains("<mark>running</mark>"))
            // Safe to insert as HTML: no markup but the highlight marks.
            let unmarked = snippet.replacingOccurrences(of: "<mark>", with: "").replacingOccurrences(of: "</mark>", with: "")
            #expect(!unmarked.contains("<") && !unmarked.contains(">"))
            #expect(try await app.api(token: eve.accessToken).searchMessages(query: .init(q: "runs")).ok.body.json.items.isEmpty)
            _ = try await app.api(token: eve.accessToken).searchMessages(query: .init(q: "runs", conversationId: group)).notFound
            _ = try await alice.searchMessages(query: .init(q: "runs", conversationId: "junk")).badRequest
        }
    }
}
