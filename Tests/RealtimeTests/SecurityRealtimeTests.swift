import App
import Auth
import Foundation
import Models
import Realtime
import SQLKit
import Store
import TestSupport
import Testing

/// The security rules that need real sockets: addresses behind a proxy, slow clients, connection
/// limits, who hears of presence, and a user in 10,000 conversations.
@Suite("Security over real sockets", .timeLimit(.minutes(3)))
struct SecurityRealtimeTests {
    static func login(_ http: HTTP, _ login: String, _ password: String, from address: String) async throws -> Int {
        try await http.request(
            "POST",
            "/api/v1/auth/login",
            json: ["login": login, "password": password],
            headers: ["X-Forwarded-For": address]
        ).status
    }

    @Test("Behind a trusted proxy, an attacker's wrong passwords lock out the attacker's address, not the owner's", arguments: TestBackend.all)
    func lockoutIsPerAddress(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.trustedProxies = [CIDR("127.0.0.1")!] }) { running in
            let http = running.http
            _ = try await http.register("owner", password: "the right one")
            for n in 0..<10 { #expect(try await Self.login(http, "owner", "guess \(n)", from: "203.0.113.5") == 401) }
            #expect(try await Self.login(http, "owner", "guess 10", from: "203.0.113.5") == 429)
            // The owner, elsewhere, signs in.
            #expect(try await Self.login(http, "owner", "the right one", from: "198.51.100.7") == 200)
            // An IPv6 attacker counts as its /64: hopping addresses within it gains nothing.
            for n in 0..<10 { _ = try await Self.login(http, "owner", "v6 guess \(n)", from: "2001:db8:1:2::\(n + 1)") }
            #expect(try await Self.login(http, "owner", "v6 guess", from: "2001:db8:1:2:ffff::1") == 429)
            // Without a trusted proxy in front, a forged header changes nothing: all of these are 127.0.0.1.
        }
        try await withRealtime(backend, configure: { $0.trustedProxies = [CIDR("127.0.0.1")!] }) { running in
            // Guesses spread over many addresses meet the slower budget of the account itself:
            // 100 an hour by default, whoever sends them.
            _ = try await running.http.register("owner", password: "the right one")
            for n in 0..<100 { #expect(try await Self.login(running.http, "owner", "guess \(n)", from: "203.0.113.\(n)") == 401) }
            #expect(try await Self.login(running.http, "owner", "guess", from: "203.0.113.200") == 429)
            #expect(try await Self.login(running.http, "owner", "the right one", from: "198.51.100.7") == 429)
        }
        try await withRealtime(backend) { running in
            _ = try await running.http.register("owner", password: "the right one")
            for n in 0..<10 { _ = try await Self.login(running.http, "owner", "guess \(n)", from: "203.0.113.\(n)") }
            #expect(try await Self.login(running.http, "owner", "the right one", from: "198.51.100.7") == 429)
        }
    }

    @Test("A page of another origin cannot open a realtime connection unless --cors-origins lists it", arguments: [TestBackend.sqlite])
    func upgradeOrigins(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.corsOrigins = ["https://chat.example"] }) { running in
            func statusLine(origin: String?) throws -> String {
                let socket = try RawSocket(port: running.port)
                try socket.send(
                    "GET /api/v1/realtime HTTP/1.1\r\nHost: 127.0.0.1:\(running.port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                        + (origin.map { "Origin: \($0)\r\n" } ?? "") + "\r\n"
                )
                return String(try socket.receive(timeout: .seconds(2)).prefix { $0 != "\r" })
            }
            #expect(try statusLine(origin: nil).hasPrefix("HTTP/1.1 101"), "apps and scripts send no Origin…")
            #expect(try statusLine(origin: "ws://127.0.0.1").hasPrefix("HTTP/1.1 101"), "…or their own")
            #expect(try statusLine(origin: "http://127.0.0.1:\(running.port)").hasPrefix("HTTP/1.1 101"), "the server's own page")
            #expect(try statusLine(origin: "https://chat.example").hasPrefix("HTTP/1.1 101"), "listed")
            for origin in ["https://evil.example", "http://127.0.0.1:1", "null"] {
                let refused = try statusLine(origin: origin)
                #expect(refused.hasPrefix("HTTP/1.1 4"), "\(origin): \(refused)")
            }
        }
    }

    @Test("A client that sends no complete request head in time is disconnected, and so is one whose body is too slow", arguments: [TestBackend.sqlite])
    func slowClients(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { configuration in
            configuration.httpIdleTimeout = .seconds(1)
            configuration.bodyReadTimeout = .seconds(1)
        }) { running in
            // Slowloris: a header, a byte at a time, never finished.
            let slow = try RawSocket(port: running.port)
            let started = ContinuousClock.now
            try slow.send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n")
            #expect(try await Self.isClosed(slow, whileSending: "X"))
            #expect(ContinuousClock.now - started < .seconds(4))

            // A body trickled a byte at a time, never idle for long, never done.
            let trickle = try RawSocket(port: running.port)
            try trickle.send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            let bodyStarted = ContinuousClock.now
            #expect(try await Self.isClosed(trickle, whileSending: " "))
            #expect(ContinuousClock.now - bodyStarted < .seconds(4))

            // The same with a chunked body, one byte a chunk.
            let chunked = try RawSocket(port: running.port)
            try chunked.send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
            let chunksStarted = ContinuousClock.now
            #expect(try await Self.isClosed(chunked, whileSending: "1\r\n \r\n"))
            #expect(ContinuousClock.now - chunksStarted < .seconds(4))

            // A client that keeps its requests moving is served as ever.
            #expect(try await running.http.request("GET", "/healthz").status == 200)
        }
    }

    /// Whether the server closes `socket` while `piece` is sent every 100 ms, for at most 4 s.
    private static func isClosed(_ socket: RawSocket, whileSending piece: String) async throws -> Bool {
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(100))
            if (try? socket.send(piece)) == nil || socket.isClosedByPeer() { return true }
        }
        return false
    }

    @Test("A user's connections past the limit are closed with 4010", arguments: [TestBackend.sqlite])
    func connectionsPerUser(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.realtime.maxConnectionsPerUser = 2 }) { running in
            let alice = try await running.http.register("alice")
            let first = try await running.http.connect(alice)
            let second = try await running.http.connect(alice, resume: nil)
            let third = try await RawWebSocket.upgrade(port: running.port, headers: ["Authorization": "Bearer \(alice.accessToken)"])
            #expect(third.closeCode == 4010 && third.frames.map(\.opcode) == [0x8])
            first.close()
            _ = try await first.waitForClose()
            let fourth = try await running.http.connect(alice, resume: nil)
            fourth.cancel()
            second.cancel()
        }
    }

    @Test("Presence reaches co-members and the user's own contacts, not whoever added them, nor whom they blocked", arguments: TestBackend.all)
    func presenceAudience(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let friend = try await http.register("friend")
            let stalker = try await http.register("stalker")
            let blocked = try await http.register("blocked")
            _ = try await http.group(alice, members: [blocked])
            #expect(try await http.request("PUT", "/api/v1/contacts/\(friend.id)", token: alice.accessToken).status == 200)
            #expect(try await http.request("PUT", "/api/v1/contacts/\(alice.id)", token: stalker.accessToken).status == 200)
            #expect(try await http.request("PUT", "/api/v1/blocks/\(blocked.id)", token: alice.accessToken).status == 200)
            let watchers = [friend, stalker, blocked]
            var clients: [RealtimeClient] = []
            for watcher in watchers { clients.append(try await http.connect(watcher)) }
            let aliceClient = try await http.connect(alice)
            let fromAlice: @Sendable (RealtimeClient.Frame) -> Bool = { $0.type == "presence.changed" && $0.object["userId"] as? String == alice.id }
            try await clients[0].next(where: fromAlice)
            // Alice's own stream marks the point by which every presence frame has been routed.
            _ = try await http.request("PATCH", "/api/v1/me", json: ["bio": "marker"], token: alice.accessToken)
            try await aliceClient.next("user.updated")
            try await Task.sleep(for: .milliseconds(300))
            #expect(!clients[1].frames.contains(where: fromAlice))
            #expect(!clients[2].frames.contains(where: fromAlice))
            for client in clients + [aliceClient] { client.cancel() }
        }
    }

    @Test("Someone blocked is not shown typing in the direct conversation", arguments: TestBackend.all)
    func blockedTyping(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let mallory = try await http.register("mallory")
            let direct = try await http.request("POST", "/api/v1/conversations/direct", json: ["userId": mallory.id], token: alice.accessToken)
            let conversation = try #require(direct.json["id"] as? String)
            let aliceClient = try await http.connect(alice)
            let malloryClient = try await http.connect(mallory)
            malloryClient.send(["type": "typing", "id": "t1", "conversationId": conversation])
            try await malloryClient.next(where: { $0.id == "t1" })
            try await aliceClient.next("typing")
            #expect(try await http.request("PUT", "/api/v1/blocks/\(mallory.id)", token: alice.accessToken).status == 200)
            try await Task.sleep(for: .seconds(2.1))  // past the typing interval
            let before = aliceClient.frames.filter { $0.type == "typing" }.count
            malloryClient.send(["type": "typing", "id": "t2", "conversationId": conversation])
            try await malloryClient.next(where: { $0.id == "t2" })
            _ = try await http.request("PATCH", "/api/v1/me", json: ["bio": "marker"], token: alice.accessToken)
            try await aliceClient.next("user.updated")
            try await Task.sleep(for: .milliseconds(300))
            #expect(aliceClient.frames.filter { $0.type == "typing" }.count == before)
            aliceClient.cancel()
            malloryClient.cancel()
        }
    }

    @Test("hello is the first frame of every connection, also when 50 open at once", arguments: TestBackend.all)
    func helloFirst(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            var accounts: [HTTP.Account] = []
            for n in 0..<10 { accounts.append(try await http.register("user\(n)")) }
            _ = try await http.group(accounts[0], members: Array(accounts.dropFirst()))
            let clients = (0..<50).map { RealtimeClient(port: running.port, token: accounts[$0 % accounts.count].accessToken) }
            for client in clients { try await client.next(after: 0) }
            // Presence changes of the others reached them all the while.
            try await Task.sleep(for: .milliseconds(500))
            #expect(clients.allSatisfy { $0.frames.first?.type == "hello" }, "\(clients.compactMap { $0.frames.first?.type }.filter { $0 != "hello" })")
            for client in clients { client.cancel() }
        }
    }

    @Test("A user in 10,000 conversations: hello lists them all, delivery and resume work", arguments: TestBackend.all)
    func tenThousandConversations(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(bob, members: [alice])
            let aliceID = UUID(uuidString: alice.id)!
            // 9,999 more conversations, straight into the tables.
            try await running.configuration.withStore { store in
                let now = Date()
                for batch in stride(from: 0, to: 9_999, by: 500) {
                    let ids = (batch..<min(batch + 500, 9_999)).map { _ in UUID() }
                    try await store.database.write { sql in
                        var conversations = SQLQueryString(
                            "INSERT INTO conversations (id, stream, kind, title, created_by, created_at, activity_at, member_count) VALUES "
                        )
                        var members = SQLQueryString("INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ")
                        for (index, id) in ids.enumerated() {
                            let separator: SQLQueryString = index == 0 ? "" : ", "
                            conversations = conversations + separator
                                + "(\(bind: id), \(bind: StreamID.conversation(id).rawValue), 'group', 'G', \(bind: aliceID), \(bind: now), 0, 1)"
                            members = members + separator + "(\(bind: id), \(bind: aliceID), 'owner', \(bind: now))"
                        }
                        try await sql.raw(conversations).run()
                        try await sql.raw(members).run()
                    }
                }
            }
            let first = RealtimeClient(port: running.port, token: alice.accessToken, maxFrameSize: 4 << 20)
            let hello = try await first.next("hello", timeout: .seconds(30))
            let streams = try #require(hello.object["streams"] as? [String: Any])
            #expect(streams.count == 10_001)
            first.send(["type": "resume", "cursors": [String: Int64]()])
            try await first.next("resumed")
            try await http.send("live", to: group, as: bob)
            try await first.next(where: { $0.data["body"] as? String == "live" })
            let cursors = first.cursors
            first.close()
            _ = try await first.waitForClose()

            for n in 0..<3 { try await http.send("missed \(n)", to: group, as: bob) }
            // A client names only the streams that moved since its cursors — hello says which.
            let second = RealtimeClient(port: running.port, token: alice.accessToken, maxFrameSize: 4 << 20)
            let again = try await second.next("hello", timeout: .seconds(30))
            let now = try #require(again.object["streams"] as? [String: NSNumber])
            let moved = cursors.filter { stream, seq in (now[stream]?.int64Value ?? 0) > seq }
            #expect(moved.keys.contains("conversation:\(group)"))
            second.send(["type": "resume", "cursors": moved])
            try await second.next("resumed")
            let bodies = second.events.compactMap { $0.data["body"] as? String }
            #expect(bodies == (0..<3).map { "missed \($0)" })
            second.cancel()
        }
    }
}
