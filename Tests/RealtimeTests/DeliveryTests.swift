import Foundation
import Realtime
import TestSupport
import Testing
import App
import SQLKit
import Store

@Suite("Realtime delivery", .timeLimit(.minutes(2)))
struct DeliveryTests {
    @Test("hello lists the followed streams; events arrive as the REST log shows them; sends are answered", arguments: TestBackend.all)
    func liveDelivery(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let client = RealtimeClient(port: http.port, token: bob.accessToken)
            let hello = try await client.next("hello")
            let streams = try #require(hello.object["streams"] as? [String: Any])
            #expect(Set(streams.keys) == ["user:\(bob.id)", "conversation:\(group)"])
            client.send(["type": "resume", "id": "r", "cursors": [:] as [String: Int64]])
            #expect(try await client.next("resumed").id == "r")

            let seq = try await http.send("over REST", to: group, as: alice)
            let event = try await client.next("message.created")
            #expect(event.stream == "conversation:\(group)" && event.seq == seq)
            #expect(event.data["body"] as? String == "over REST")
            let rest = try await http.request("GET", "/api/v1/conversations/\(group)/events?after=\(seq - 1)&limit=1", token: bob.accessToken)
            let logged = try #require((rest.json["items"] as? [[String: Any]])?.first)
            #expect(NSDictionary(dictionary: logged) == NSDictionary(dictionary: event.object))
            #expect((event.data["seq"] as? NSNumber)?.int64Value == seq)
            // Too large for a NOTIFY: on PostgreSQL it travels as a reference to the log, numbered there too.
            let long = String(repeating: "é", count: 3_990)
            let longSeq = try await http.send(long, to: group, as: alice)
            let longEvent = try await client.next(where: { $0.seq == longSeq })
            #expect(longEvent.data["body"] as? String == long && (longEvent.data["seq"] as? NSNumber)?.int64Value == longSeq)

            client.send(["type": "message.send", "id": "s1", "conversationId": group, "clientMessageId": "c1", "body": "over the socket"])
            let sent = try await client.next("message.sent")
            #expect(sent.id == "s1" && sent.object["created"] as? Bool == true)
            #expect((sent.object["message"] as? [String: Any])?["body"] as? String == "over the socket")
            client.send(["type": "message.send", "id": "s2", "conversationId": group, "clientMessageId": "c1", "body": "again"])
            let repeated = try await client.next(where: { $0.id == "s2" })
            #expect(repeated.object["created"] as? Bool == false)
            client.send(["type": "ping", "id": "p"])
            #expect(try await client.next("pong").id == "p")
            client.send(["type": "read", "id": "rd", "conversationId": group, "seq": seq])
            #expect(try await client.next("ack").object["for"] as? String == "read")
            #expect(client.events.filter { $0.type == "message.created" }.count >= 1)
            client.cancel()
        }
    }

    @Test("Without a resume, live delivery starts once the resume window has passed", arguments: TestBackend.all)
    func resumeWindow(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            // Timed from before the upgrade: the window opens when the server sends `hello`, which
            // a loaded machine may hand to the client well after.
            let connecting = ContinuousClock.now
            let client = try await http.connect(bob, resume: nil)
            let seq = try await http.send("held until the window passed", to: group, as: alice)
            let event = try await client.next("message.created")
            #expect(event.seq == seq)
            // The harness's window is 300 ms: the event waited for it, in case a resume came.
            #expect(ContinuousClock.now - connecting >= .milliseconds(300))
            #expect(!client.frames.contains { $0.type == "resumed" })
            client.cancel()
        }
    }

    @Test("Resuming delivers every missed event once, in order, then resumed, then live — also while events keep coming", arguments: TestBackend.all)
    func resumeIsExactlyOnce(backend: TestBackend) async throws {
        // A window long enough that a loaded machine cannot make the resume late (then `resync`, as
        // documented, and another test's subject).
        try await withRealtime(backend, configure: { $0.realtime.resumeWindow = .seconds(10) }) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let first = try await http.connect(bob)
            for n in 0..<5 { try await http.send("before \(n)", to: group, as: alice) }
            try await first.next(where: { $0.data["body"] as? String == "before 4" })
            let cursors = first.cursors
            first.close()
            _ = try await first.waitForClose()

            for n in 0..<30 { try await http.send("missed \(n)", to: group, as: alice) }
            // Keep sending while the second connection replays.
            let sender = Task {
                for n in 0..<30 { try await http.send("during \(n)", to: group, as: alice) }
            }
            let second = try await http.connect(bob, resume: cursors)
            try await sender.value
            try await second.next(where: { $0.data["body"] as? String == "during 29" })
            let bodies = second.events.filter { $0.type == "message.created" }.compactMap { $0.data["body"] as? String }
            #expect(bodies == (0..<30).map { "missed \($0)" } + (0..<30).map { "during \($0)" })
            let seqs = second.events.filter { $0.stream == "conversation:\(group)" }.compactMap(\.seq)
            #expect(seqs == Array((cursors["conversation:\(group)"]! + 1)...(seqs.last ?? 0)))
            // `resumed` comes after every replayed event of the first batch.
            let resumedIndex = try #require(second.frames.firstIndex { $0.type == "resumed" })
            let lastMissed = try #require(second.frames.firstIndex { $0.data["body"] as? String == "missed 29" })
            #expect(lastMissed < resumedIndex)
            second.cancel()
        }
    }

    @Test("Streams a resume does not name start from hello; odd cursors get resync", arguments: TestBackend.all)
    func resumeEdgeCases(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let group = try await http.group(alice, members: [])
            for n in 0..<3 { try await http.send("old \(n)", to: group, as: alice) }
            let client = RealtimeClient(port: http.port, token: alice.accessToken)
            let hello = try await client.next("hello")
            let position = try #require((hello.object["streams"] as? [String: Any])?["conversation:\(group)"] as? NSNumber).int64Value
            client.send(["type": "resume", "cursors": ["conversation:\(group)": position + 10, "conversation:\(UUID().uuidString.lowercased())": 1]])
            let ahead = try await client.next(where: { $0.type == "resync" && ($0.object["reason"] as? String) == "ahead" })
            #expect(ahead.object["stream"] as? String == "conversation:\(group)")
            try await client.next(where: { $0.type == "resync" && ($0.object["reason"] as? String) == "unknown" })
            try await client.next("resumed")
            #expect(client.events.isEmpty)
            try await http.send("new", to: group, as: alice)
            let event = try await client.next("message.created")
            #expect(event.data["body"] as? String == "new")
            // A resume after live delivery began: a stream with live events since hello cannot be replayed in order.
            client.send(["type": "resume", "id": "late", "cursors": ["conversation:\(group)": 1]])
            let late = try await client.next(where: { $0.type == "resync" && ($0.object["reason"] as? String) == "late" })
            #expect(late.object["stream"] as? String == "conversation:\(group)")
            #expect(try await client.next(where: { $0.id == "late" }).type == "resumed")
            client.cancel()
        }
    }

    @Test("A cursor older than the log's retention gets resync", arguments: TestBackend.all)
    func expiredCursors(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let group = try await http.group(alice, members: [])
            for n in 0..<3 { try await http.send("m\(n)", to: group, as: alice) }
            // Prune the whole log, as retention would after 30 days.
            _ = try await running.configuration.withStore { store in
                try await store.pruneEvents(olderThan: Date().addingTimeInterval(60))
            }
            let client = RealtimeClient(port: http.port, token: alice.accessToken)
            try await client.next("hello")
            client.send(["type": "resume", "cursors": ["conversation:\(group)": 1]])
            let resync = try await client.next("resync")
            #expect(resync.object["reason"] as? String == "expired")
            try await client.next("resumed")
            client.cancel()
        }
    }
}

@Suite("Realtime over a PostgreSQL bus", .timeLimit(.minutes(2)))
struct BusTests {
    @Test(
        "When a node's LISTEN connection drops, it reconnects and fills what it missed from the log",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func listenerReconnects() async throws {
        try await withRealtime(.postgres) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let client = try await http.connect(bob)
            try await http.send("before", to: group, as: alice)
            try await client.next(where: { $0.data["body"] as? String == "before" })

            // Cut the listening connection, then write while it is down.
            let terminated = try await running.configuration.withStore { store in
                try await Self.terminateListener(store, running.configuration)
            }
            #expect(terminated == 1)
            for n in 0..<5 { try await http.send("while down \(n)", to: group, as: alice) }
            try await client.next(where: { $0.data["body"] as? String == "while down 4" }, timeout: .seconds(15))
            let bodies = client.events.filter { $0.type == "message.created" }.compactMap { $0.data["body"] as? String }
            #expect(bodies == ["before"] + (0..<5).map { "while down \($0)" })
            client.cancel()
        }
    }

    @Test(
        "Membership changes made while a node's LISTEN is down take effect when it fills the gap: the removed hear nothing more, the added follow",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func membershipChangesDuringAnOutage() async throws {
        try await withRealtime(.postgres) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let carol = try await http.register("carol")
            let group = try await http.group(alice, members: [bob])
            let removed = try await http.connect(bob)
            let added = try await http.connect(carol)
            try await http.send("before", to: group, as: alice)
            try await removed.next(where: { $0.data["body"] as? String == "before" })

            // Another node, sharing the database, changes the group while this node hears nothing.
            try await running.configuration.withStore { store in
                #expect(try await Self.terminateListener(store, running.configuration) == 1)
                let (groupID, aliceID) = (UUID(uuidString: group)!, UUID(uuidString: alice.id)!)
                try await store.removeMember(UUID(uuidString: bob.id)!, from: groupID, by: aliceID, now: Date())
                _ = try await store.addMembers([UUID(uuidString: carol.id)!], to: groupID, by: aliceID, limits: MembershipLimits(), now: Date())
                for n in 0..<3 {
                    _ = try await store.sendMessage(to: groupID, from: aliceID, clientMessageID: "down-\(n)", body: "while down \(n)", replyTo: nil, now: Date())
                }
            }
            // Once it is back, the next messages show who follows the group.
            for n in 0..<3 { try await http.send("after \(n)", to: group, as: alice) }
            try await added.next(where: { $0.data["body"] as? String == "after 2" }, timeout: .seconds(20))
            let carolBodies = added.events.filter { $0.type == "message.created" }.compactMap { $0.data["body"] as? String }
            #expect(carolBodies == (0..<3).map { "while down \($0)" } + (0..<3).map { "after \($0)" })
            #expect(added.events.contains { $0.type == "member.added" && $0.stream == "conversation:\(group)" })

            // A marker in Bob's own stream: everything routed to him before it has arrived.
            _ = try await http.request("PATCH", "/api/v1/me", json: ["bio": "marker"], token: bob.accessToken)
            try await removed.next("user.updated", timeout: .seconds(20))
            // He learns of it from the group's stream or his own, whichever the node reads first.
            #expect(removed.events.contains { $0.type == "conversation.left" || $0.type == "member.removed" })
            let bobGroupEvents = removed.events.filter { $0.stream == "conversation:\(group)" }.compactMap(\.type)
            #expect(bobGroupEvents.allSatisfy { $0 == "message.created" || $0 == "member.removed" }, "\(removed.frames)")
            #expect(!removed.events.contains { ($0.data["body"] as? String)?.hasPrefix("after") == true })
            #expect(!removed.events.contains { ($0.data["body"] as? String)?.hasPrefix("while down") == true })
            removed.cancel()
            added.cancel()
        }
    }

    /// Terminates the server's LISTEN connection; returns how many backends it ended.
    static func terminateListener(_ store: Store, _ configuration: AppConfiguration) async throws -> Int {
        let schema = configuration.databaseURL?.components(separatedBy: "search_path%3D").last ?? ""
        return try await store.database.read { sql in
            try await sql.raw(
                """
                SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
                WHERE application_name = 'parley' AND query ILIKE 'LISTEN%' AND query ILIKE \(bind: "%" + schema + "%")
                """
            ).all().count
        }
    }
}
