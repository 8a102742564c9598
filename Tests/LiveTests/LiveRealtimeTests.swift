import Foundation
import TestSupport
import Testing

/// Realtime across real `parley` processes: several nodes on one PostgreSQL, crashes, restarts.
@Suite("Realtime across processes", .serialized, .timeLimit(.minutes(3)))
struct LiveRealtimeTests {
    @Test(
        "Two nodes on one PostgreSQL: messages (also too large for NOTIFY), typing, presence and sign-outs cross between them",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func twoNodes() async throws {
        try await TestBackend.postgres.withLocation { location in
            try await ParleyProcess.withNodes(["serve", "realtime"], location: location) { nodes, _ in
                let rest = HTTP(port: nodes[0].port)
                let alice = try await rest.register("alice")
                let bob = try await rest.register("bob")
                let group = try await rest.group(alice, members: [bob])

                let bobOnTwo = try await HTTP(port: nodes[1].port).connect(bob)
                let aliceOnOne = try await HTTP(port: nodes[0].port).connect(alice)
                try await bobOnTwo.next(where: { $0.type == "presence.changed" && $0.object["userId"] as? String == alice.id })

                let seq = try await rest.send("across nodes", to: group, as: alice)
                let event = try await bobOnTwo.next("message.created")
                #expect(event.seq == seq && event.data["body"] as? String == "across nodes")

                aliceOnOne.send(["type": "typing", "conversationId": group])
                let typing = try await bobOnTwo.next("typing")
                #expect(typing.object["userId"] as? String == alice.id)

                // 12,000 bytes of body: too large for a NOTIFY payload, so it travels by reference.
                let large = String(repeating: "€", count: 4000)
                let largeSeq = try await rest.send(large, to: group, as: alice)
                let largeEvent = try await bobOnTwo.next(where: { $0.type == "message.created" && $0.seq == largeSeq })
                #expect(largeEvent.data["body"] as? String == large)

                // Bob signs out through the first node; his socket on the second closes within 5 s.
                let signedOut = ContinuousClock.now
                #expect(try await rest.request("POST", "/api/v1/auth/logout", token: bob.accessToken).status == 204)
                #expect(try await bobOnTwo.waitForClose() == 4501)
                #expect(ContinuousClock.now - signedOut < .seconds(5))
                #expect(bobOnTwo.events.last?.type == "session.revoked")
                aliceOnOne.cancel()
            }
        }
    }

    @Test(
        "kill -9 of a node while messages flow: the client resumes on the other node with nothing lost or doubled",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func nodeCrash() async throws {
        try await TestBackend.postgres.withLocation { location in
            try await ParleyProcess.withNodes(["serve", "serve"], location: location) { nodes, _ in
                let rest = HTTP(port: nodes[0].port)
                let alice = try await rest.register("alice")
                let bob = try await rest.register("bob")
                let group = try await rest.group(alice, members: [bob])
                let first = try await HTTP(port: nodes[1].port).connect(bob)

                let total = 200
                let sender = Task {
                    for n in 0..<total {
                        try await rest.send("m\(n)", to: group, as: alice, clientMessageID: "m\(n)")
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
                try await first.next(where: { $0.data["body"] as? String == "m50" }, timeout: .seconds(30))
                await nodes[1].process.signal(SIGKILL)
                _ = try await first.waitForClose()
                let cursors = first.cursors

                let second = try await HTTP(port: nodes[0].port).connect(bob, resume: cursors, timeout: .seconds(30))
                try await sender.value
                try await second.next(where: { $0.data["body"] as? String == "m\(total - 1)" }, timeout: .seconds(30))

                let received = (first.events + second.events).filter { $0.type == "message.created" }.compactMap { $0.data["body"] as? String }
                #expect(received.count == total, "lost or doubled: \(received.count) of \(total)")
                #expect(received == (0..<total).map { "m\($0)" })
                second.cancel()
            }
        }
    }

    @Test("On SQLite, a client resumes across a server restart; SIGTERM closes sockets with 1001", arguments: [TestBackend.sqlite])
    func restart(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-live")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            let before = try await ParleyProcess.start(arguments: location.arguments, logDirectory: logs)
            var http = HTTP(port: before.port)
            try await http.waitUntilReady()
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let first = try await http.connect(bob)
            for n in 0..<10 { try await http.send("a\(n)", to: group, as: alice) }
            try await first.next(where: { $0.data["body"] as? String == "a9" })

            await before.process.signal(SIGTERM)
            let code = try await first.waitForClose()
            #expect(code == 1001)
            #expect(try await before.process.waitForExit() == 0)
            let cursors = first.cursors

            let after = try await ParleyProcess.start(arguments: location.arguments, logDirectory: logs)
            http = HTTP(port: after.port)
            try await http.waitUntilReady()
            for n in 0..<10 { try await http.send("b\(n)", to: group, as: alice) }
            let second = try await http.connect(bob, resume: cursors)
            try await http.send("live", to: group, as: alice)
            try await second.next(where: { $0.data["body"] as? String == "live" })
            let bodies = second.events.filter { $0.type == "message.created" }.compactMap { $0.data["body"] as? String }
            #expect(bodies == (0..<10).map { "b\($0)" } + ["live"])
            second.cancel()
            await after.process.stop()
        }
    }

    @Test(
        "A node that dies has its users' presence expire within 60 s",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func deadNodePresence() async throws {
        try await TestBackend.postgres.withLocation { location in
            try await ParleyProcess.withNodes(["serve", "realtime"], location: location) { nodes, _ in
                let rest = HTTP(port: nodes[0].port)
                let alice = try await rest.register("alice")
                let bob = try await rest.register("bob")
                _ = try await rest.group(alice, members: [bob])
                let watcher = try await HTTP(port: nodes[0].port).connect(alice)
                let doomed = try await HTTP(port: nodes[1].port).connect(bob)
                try await watcher.next(where: { $0.type == "presence.changed" && $0.object["status"] as? String == "online" })
                await nodes[1].process.signal(SIGKILL)
                let killed = ContinuousClock.now
                _ = try await doomed.waitForClose()
                try await watcher.next(where: { $0.type == "presence.changed" && $0.object["status"] as? String == "offline" }, timeout: .seconds(70))
                #expect(ContinuousClock.now - killed < .seconds(60))
                watcher.cancel()
            }
        }
    }
}
