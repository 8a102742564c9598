import Foundation
import TestSupport
import Testing
import App

@Suite("Realtime authentication", .timeLimit(.minutes(2)))
struct AuthenticationTests {
    @Test("A bad bearer token is closed with 4001 before any frame", arguments: TestBackend.all)
    func badHeaderToken(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let answer = try await RawWebSocket.upgrade(port: running.port, headers: ["Authorization": "Bearer not-a-token"])
            #expect(answer.status.hasPrefix("HTTP/1.1 101"))
            #expect(answer.closeCode == 4001)
            #expect(answer.frames.map(\.opcode) == [0x8], "the close frame, and nothing before it")
        }
    }

    @Test("Without a header: an auth frame in time opens the connection, carrying cursors if wanted", arguments: TestBackend.all)
    func authFrame(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let group = try await running.http.group(alice, members: [])
            let seq = try await running.http.send("before", to: group, as: alice)
            let client = RealtimeClient(port: running.port, token: nil)
            client.send(["type": "auth", "token": alice.accessToken, "cursors": ["conversation:\(group)": seq - 1]])
            try await client.next("hello")
            let replayed = try await client.next("message.created")
            #expect(replayed.seq == seq)
            try await client.next("resumed")
            client.cancel()
        }
    }

    @Test("Without a header: no frame, a wrong first frame, or a bad token is closed with 4001", arguments: TestBackend.all)
    func authFrameRefusals(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let silent = RealtimeClient(port: running.port, token: nil)
            let started = ContinuousClock.now
            let closed2 = try await silent.waitForClose()

            #expect(closed2 == 4001)
            #expect(ContinuousClock.now - started < .seconds(5))

            let wrongFirst = RealtimeClient(port: running.port, token: nil)
            wrongFirst.send(["type": "ping"])
            let closed3 = try await wrongFirst.waitForClose()

            #expect(closed3 == 4001)

            let badToken = RealtimeClient(port: running.port, token: nil)
            badToken.send(["type": "auth", "token": "forged"])
            let closed4 = try await badToken.waitForClose()

            #expect(closed4 == 4001)
        }
    }

    @Test("A connection closes with 4001 when its token expires, unless it presents a fresh one", arguments: TestBackend.all)
    func tokenExpiry(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.accessTokenLifetime = 10 }) { running in
            let alice = try await running.http.register("alice")
            let lapsing = try await running.http.connect(alice)
            let refreshed = try await running.http.connect(alice)
            // The second connection presents a new token for the same session. (Tokens count whole
            // seconds: one issued a second later expires a second later.)
            try await Task.sleep(for: .milliseconds(1100))
            let pair = try await running.http.request("POST", "/api/v1/auth/refresh", json: ["refreshToken": alice.refreshToken])
            let fresh = try #require(pair.json["accessToken"] as? String)
            refreshed.send(["type": "auth", "token": fresh])
            try await refreshed.next("ack")
            #expect(try await lapsing.waitForClose(timeout: .seconds(20)) == 4001)
            #expect(!refreshed.closed)
            #expect(try await refreshed.waitForClose(timeout: .seconds(20)) == 4001)
        }
    }

    @Test("A token for another session is refused on a live connection", arguments: TestBackend.all)
    func refreshForAnotherSession(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let other = try await running.http.request("POST", "/api/v1/auth/login", json: ["login": "alice", "password": "correct horse battery"])
            let client = try await running.http.connect(alice)
            client.send(["type": "auth", "token": try #require(other.json["accessToken"] as? String)])
            #expect(try await client.next("error").code == "forbidden")
            #expect(!client.closed)
            client.cancel()
        }
    }

    @Test("Deleting the account closes every connection of every session with 4501", arguments: [TestBackend.sqlite])
    func deletedAccounts(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let laptop = try await running.http.request("POST", "/api/v1/auth/login", json: ["login": "alice", "password": "correct horse battery"])
            let first = try await running.http.connect(alice)
            let second = RealtimeClient(port: running.port, token: try #require(laptop.json["accessToken"] as? String))
            _ = try await second.next("hello")
            let deleted = try await running.http.request("DELETE", "/api/v1/me", json: ["password": "correct horse battery"], token: alice.accessToken)
            #expect(deleted.status == 202)
            #expect(try await first.waitForClose() == 4501)
            #expect(try await second.waitForClose() == 4501)
            #expect(second.events.last?.type == "session.revoked")
        }
    }

    @Test("Logging out closes that session's connections with 4501 after delivering session.revoked", arguments: TestBackend.all)
    func revokedSessions(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let client = try await running.http.connect(alice)
            let started = ContinuousClock.now
            #expect(try await running.http.request("POST", "/api/v1/auth/logout", token: alice.accessToken).status == 204)
            let closed5 = try await client.waitForClose()

            #expect(closed5 == 4501)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(client.events.last?.type == "session.revoked")
            // The revoked token cannot open a new one. (Read off the socket: the client library can
            // miss a close that follows the 101 at once, and then waits for ever — seen under load.)
            let refused = try await RawWebSocket.upgrade(port: running.port, headers: ["Authorization": "Bearer \(alice.accessToken)"])
            #expect(refused.closeCode == 4001)
        }
    }
}
