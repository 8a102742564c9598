import Foundation
import Models
import Store
import TestSupport
import Testing

@Suite("Messages in the store", .timeLimit(.minutes(1)))
struct MessageStoreTests {
    @Test("Thirty concurrent sends with one client id make one message", arguments: TestBackend.all)
    func concurrentIdempotentSends(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let group = try await world.group(alice)
            let results = try await withThrowingTaskGroup(of: (UUID, Bool).self) { tasks in
                for _ in 0..<30 {
                    tasks.addTask {
                        let result = try await world.store.sendMessage(to: group, from: alice, clientMessageID: "once", body: "Hi", replyTo: nil, now: World.now)
                        return (result.message.id, result.created)
                    }
                }
                return try await tasks.reduce(into: [(UUID, Bool)]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.0)).count == 1)
            #expect(results.filter(\.1).count == 1)
            let page = try await world.store.history(of: group, viewer: alice, HistoryQuery(before: nil, after: nil, limit: 50))
            #expect(page.items.count == 1)
            #expect(try await world.eventTypes(.conversation(group)).filter { $0 == "message.created" }.count == 1)
            // The attempts that lost took their seqs back: the stream goes on without a gap.
            let next = try await world.store.sendMessage(to: group, from: alice, clientMessageID: "next", body: "Hi", replyTo: nil, now: World.now)
            #expect(next.message.seq == page.items[0].seq + 1)
        }
    }

    @Test("History pages cover every message once, in order, both ways", arguments: TestBackend.all)
    func historyPagination(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let group = try await world.group(alice)
            var sent: [Int64] = []
            for n in 0..<45 { sent.append(try await world.send("message \(n)", from: alice, to: group).seq) }

            var seen: [Int64] = []
            var query = HistoryQuery(before: nil, after: nil, limit: 10)
            while true {
                let page = try await world.store.history(of: group, viewer: alice, query)
                #expect(page.items.map(\.seq) == page.items.map(\.seq).sorted())
                seen = page.items.map(\.seq) + seen
                guard page.hasMore, let oldest = page.items.first else { break }
                query = HistoryQuery(before: oldest.seq, after: nil, limit: 10)
            }
            #expect(seen == sent)

            var forward: [Int64] = []
            query = HistoryQuery(before: nil, after: 0, limit: 7)
            while true {
                let page = try await world.store.history(of: group, viewer: alice, query)
                forward += page.items.map(\.seq)
                guard page.hasMore, let newest = page.items.last else { break }
                query = HistoryQuery(before: nil, after: newest.seq, limit: 7)
            }
            #expect(forward == sent)
            let window = try await world.store.history(of: group, viewer: alice, HistoryQuery(before: sent[20], after: sent[10], limit: 100))
            #expect(window.items.map(\.seq) == Array(sent[11..<20]))
            #expect(!window.hasMore)
        }
    }

    @Test("Edits, tombstones and reactions", arguments: TestBackend.all)
    func editsDeletesAndReactions(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let bob = try await world.user("bob")
            let carol = try await world.user("carol")
            let group = try await world.group(alice, [bob, carol])
            let message = try await world.send("Helo", from: bob, to: group)

            await expectProblem(.forbidden) { _ = try await world.store.editMessage(message.id, by: alice, body: "x", now: World.now) }
            let edited = try await world.store.editMessage(message.id, by: bob, body: "Hello", now: World.now)
            #expect(edited.body == "Hello" && edited.editedAt != nil)

            for (offset, (user, emoji)) in [(alice, "👍"), (bob, "👍"), (alice, "👍"), (carol, "🎉")].enumerated() {
                try await world.store.react(to: message.id, by: user, emoji: emoji, add: true, now: World.now.addingTimeInterval(Double(offset)))
            }
            try await world.store.react(to: message.id, by: carol, emoji: "👀", add: false, now: World.now)
            let page = try await world.store.history(of: group, viewer: alice, HistoryQuery(before: nil, after: nil, limit: 10))
            #expect(page.items[0].reactions == [Reaction(emoji: "👍", count: 2, me: true), Reaction(emoji: "🎉", count: 1, me: false)])

            await expectProblem(.forbidden) { try await world.store.deleteMessage(message.id, by: carol, now: World.now) }
            try await world.store.deleteMessage(message.id, by: alice, now: World.now)  // a group admin (the owner)
            let tombstone = try await world.store.history(of: group, viewer: carol, HistoryQuery(before: nil, after: nil, limit: 10)).items[0]
            #expect(tombstone.isDeleted && tombstone.body == nil && tombstone.reactions.isEmpty)
            await expectProblem(.notFound) { try await world.store.deleteMessage(message.id, by: bob, now: World.now) }
            await expectProblem(.messageDeleted) { _ = try await world.store.editMessage(message.id, by: bob, body: "x", now: World.now) }

            let types = try await world.eventTypes(.conversation(group))
            #expect(types.filter { $0 == "reaction.added" }.count == 3)
            #expect(types.contains("message.updated") && types.last == "message.deleted")
        }
    }

    @Test("Messages of other conversations are invisible; replies stay in their conversation", arguments: TestBackend.all)
    func isolation(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let eve = try await world.user("eve")
            let ours = try await world.group(alice)
            let theirs = try await world.group(eve)
            let secret = try await world.send("secret", from: eve, to: theirs)
            await expectProblem(.notFound) { _ = try await world.store.editMessage(secret.id, by: alice, body: "x", now: World.now) }
            await expectProblem(.notFound) { try await world.store.react(to: secret.id, by: alice, emoji: "👍", add: true, now: World.now) }
            await expectProblem(.notFound) { _ = try await world.store.history(of: theirs, viewer: alice, HistoryQuery(before: nil, after: nil, limit: 5)) }
            await expectProblem(.validationFailed) { try await world.send("re", from: alice, to: ours, replyTo: secret.id) }
            let first = try await world.send("first", from: alice, to: ours)
            #expect(try await world.send("re", from: alice, to: ours, replyTo: first.id).replyToID == first.id)
        }
    }

    @Test("Read positions only move forward; unread counts others' messages after them", arguments: TestBackend.all)
    func receiptsAndUnread(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let bob = try await world.user("bob")
            let group = try await world.group(alice, [bob])
            var seqs: [Int64] = []
            for n in 0..<5 { seqs.append(try await world.send("m\(n)", from: bob, to: group).seq) }
            try await world.send("mine", from: alice, to: group)
            #expect(try await world.store.conversation(group, viewer: alice)?.unreadCount == 5)
            try await world.store.markRead(group, by: alice, upTo: seqs[2], now: World.now)
            #expect(try await world.store.conversation(group, viewer: alice)?.unreadCount == 2)
            try await world.store.markRead(group, by: alice, upTo: seqs[0], now: World.now)
            let members = try await world.store.members(of: group, viewer: bob)
            #expect(members.first { $0.user.id == alice }?.lastReadSeq == seqs[2])
            // Past the end: the position stops at the conversation's last event.
            let end = try #require(try await world.store.conversation(group, viewer: alice)).lastSeq
            try await world.store.markRead(group, by: alice, upTo: 1_000_000, now: World.now)
            #expect(try await world.store.conversation(group, viewer: alice)?.unreadCount == 0)
            #expect(try await world.store.members(of: group, viewer: bob).first { $0.user.id == alice }?.lastReadSeq == end)
            #expect(try await world.eventTypes(.conversation(group)).filter { $0 == "receipt.updated" }.count == 2)
        }
    }

    @Test("The conversation list is ordered by latest activity, paged, with the last message", arguments: TestBackend.all)
    func conversationList(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            var groups: [UUID] = []
            for n in 0..<5 { groups.append(try await world.group(alice, title: "G\(n)")) }
            for (offset, group) in [groups[2], groups[0], groups[4]].enumerated() {
                _ = try await world.store.sendMessage(
                    to: group, from: alice, clientMessageID: "c\(offset)", body: "in \(offset)", replyTo: nil,
                    now: World.now.addingTimeInterval(Double(offset + 1))
                )
            }
            var titles: [String] = []
            var cursor: String?
            repeat {
                let page = try await world.store.conversations(of: alice, limit: 2, cursor: cursor)
                titles += page.items.map(\.title)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(titles.prefix(3) == ["G4", "G0", "G2"])
            #expect(Set(titles) == Set((0..<5).map { "G\($0)" }) && titles.count == 5)
            let top = try await world.store.conversations(of: alice, limit: 1, cursor: nil).items[0]
            #expect(top.lastMessage?.body == "in 2")
            await expectProblem(.validationFailed) { _ = try await world.store.conversations(of: alice, limit: 2, cursor: "junk") }
        }
    }

    @Test("Search is stemmed, ranked, follows edits and deletes, and sees only the viewer's conversations", arguments: TestBackend.all)
    func messageSearch(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let bob = try await world.user("bob")
            let shared = try await world.group(alice, [bob])
            let privateToBob = try await world.group(bob)
            let running = try await world.send("We were running late to the station", from: bob, to: shared)
            try await world.send("Nothing to see here", from: bob, to: shared)
            try await world.send("Bob runs alone", from: bob, to: privateToBob)
            let edited = try await world.send("a typo", from: alice, to: shared)

            let hits = try await world.store.searchMessages("runs", viewer: alice, in: nil, limit: 10, cursor: nil)
            #expect(hits.items.map(\.message.id) == [running.id])
            #expect(hits.items[0].snippet.contains("<mark>running</mark>"))
            #expect(try await world.store.searchMessages("runs", viewer: bob, in: nil, limit: 10, cursor: nil).items.count == 2)
            #expect(try await world.store.searchMessages("runs", viewer: bob, in: privateToBob, limit: 10, cursor: nil).items.count == 1)
            await expectProblem(.notFound) {
                _ = try await world.store.searchMessages("runs", viewer: alice, in: privateToBob, limit: 10, cursor: nil)
            }

            _ = try await world.store.editMessage(edited.id, by: alice, body: "a station announcement", now: World.now)
            #expect(try await world.store.searchMessages("typo", viewer: alice, in: nil, limit: 10, cursor: nil).items.isEmpty)
            #expect(try await world.store.searchMessages("announcements", viewer: alice, in: nil, limit: 10, cursor: nil).items.count == 1)
            try await world.store.deleteMessage(running.id, by: bob, now: World.now)
            #expect(try await world.store.searchMessages("running", viewer: alice, in: nil, limit: 10, cursor: nil).items.isEmpty)

            for n in 0..<5 { try await world.send("station number \(n)", from: alice, to: shared) }
            var found: [UUID] = []
            var cursor: String?
            repeat {
                let page = try await world.store.searchMessages("station", viewer: alice, in: shared, limit: 2, cursor: cursor)
                found += page.items.map(\.message.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(found.count == 6 && Set(found).count == 6)
            #expect(try await world.store.searchMessages("\"*(", viewer: alice, in: nil, limit: 10, cursor: nil).items.isEmpty)
        }
    }
}

@Suite("People in the store", .timeLimit(.minutes(1)))
struct PeopleStoreTests {
    @Test("User search matches username and display name in any case, prefixes first, paged", arguments: TestBackend.all)
    func userSearch(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            _ = try await world.user("annie", displayName: "Annie Apple")
            _ = try await world.user("joanna", displayName: "Jo")
            _ = try await world.user("bob", displayName: "Bob Annan")
            _ = try await world.user("ann_x", displayName: "Zed")
            _ = try await world.user("carl", displayName: "Carl")
            var names: [String] = []
            var cursor: String?
            repeat {
                let page = try await world.store.searchUsers("ANN", viewer: UUID(), limit: 2, cursor: cursor)
                names += page.items.map(\.username)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(names == ["ann_x", "annie", "bob", "joanna"])
            #expect(try await world.store.searchUsers("%", viewer: UUID(), limit: 10, cursor: nil).items.isEmpty)
            #expect(try await world.store.searchUsers("n_x", viewer: UUID(), limit: 10, cursor: nil).items.map(\.username) == ["ann_x"])
        }
    }

    @Test("Contacts carry nicknames and log their changes", arguments: TestBackend.all)
    func contacts(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let bob = try await world.user("bob")
            _ = try await world.store.putContact(owner: alice, contact: bob, nickname: nil, now: World.now)
            _ = try await world.store.putContact(owner: alice, contact: bob, nickname: nil, now: World.now)
            let renamed = try await world.store.putContact(owner: alice, contact: bob, nickname: "Bobby", now: World.now)
            #expect(renamed.nickname == "Bobby")
            #expect(try await world.store.contacts(of: alice).map(\.nickname) == ["Bobby"])
            #expect(try await world.store.removeContact(owner: alice, contact: bob, now: World.now))
            #expect(try await !world.store.removeContact(owner: alice, contact: bob, now: World.now))
            #expect(try await world.eventTypes(.user(alice)) == ["contact.added", "contact.updated", "contact.removed"])
            #expect(try await world.eventTypes(.user(bob)).isEmpty)
            await expectProblem(.notFound) { _ = try await world.store.putContact(owner: alice, contact: UUID(), nickname: nil, now: World.now) }
        }
    }
}
