import Foundation
import TestSupport
import Testing

/// `Tests/Fixtures/push_service.py`: a push service on loopback that checks each push with code of
/// its own (VAPID with `cryptography`, decryption with `http_ece`) and keeps what it received.
struct PushService {
    let process: ChildProcess
    let directory: String
    let port: Int
    let p256dh: String
    let auth: String

    /// Starts it (again, on `port` and with the browser keys it kept, when given).
    static func start(directory: String, port: Int? = nil) async throws -> PushService {
        try? FileManager.default.removeItem(atPath: "\(directory)/service.json")
        let process = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: ["python3", Repository.fixture("push_service.py"), "--dir", directory] + (port.map { ["--port", String($0)] } ?? []),
            logPath: "\(directory)/log-\(UUID().uuidString.prefix(8)).txt"
        )
        let info = try await eventually(timeout: .seconds(20), "the push service to start") { () -> [String: Any]? in
            if await !process.isRunning { throw TestSetupError("push_service.py exited:\n\(process.output())") }
            guard let data = FileManager.default.contents(atPath: "\(directory)/service.json") else { return nil }
            return try JSONSerialization.jsonObject(with: data) as? [String: Any]
        }
        return PushService(
            process: process,
            directory: directory,
            port: info["port"] as? Int ?? 0,
            p256dh: info["p256dh"] as? String ?? "",
            auth: info["auth"] as? String ?? ""
        )
    }

    /// Every push received so far: its path and decrypted payload.
    func received() throws -> [(path: String, payload: [String: Any])] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("push-") && $0.hasSuffix(".json") }.map { name in
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))) as? [String: Any] ?? [:]
            return (object["path"] as? String ?? "", object["payload"] as? [String: Any] ?? [:])
        }
    }

    /// What failed its checks (a bad signature, a body that does not decrypt).
    func refused() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("bad-") }.map {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\($0)")), as: UTF8.self)
        }
    }

    /// Waits for the pushes whose body is `body`.
    func pushes(withBody body: String, count: Int = 1) async throws -> [(path: String, payload: [String: Any])] {
        try await pushes(where: "body", is: body, count: count)
    }

    /// Waits for `count` pushes whose payload field `field` is `value` (pushes go out concurrently, in any order).
    func pushes(where field: String, is value: String, count: Int = 1) async throws -> [(path: String, payload: [String: Any])] {
        try await eventually(timeout: .seconds(20), "\(count) push(es) with \(field) \"\(value)\"") { () -> [(path: String, payload: [String: Any])]? in
            let matching = try received().filter { $0.payload[field] as? String == value }
            return matching.count >= count ? matching : nil
        }
    }
}

@Suite("Web Push through a real push service", .serialized, .timeLimit(.minutes(3)))
struct LivePushTests {
    @Test(
        "Encrypted and signed so an independent implementation reads them; once each; at most 4 KiB; 410 ends a subscription; failures retried 5 times; mutes hold pushes back; a restart loses none",
        arguments: TestBackend.all
    )
    func push(backend: TestBackend) async throws {
        try await backend.withLocation { location in try await Self.push(location.arguments + ["--allow-loopback-push"]) }
    }

    static func push(_ arguments: [String]) async throws {
        let root = try Repository.temporaryDirectory("parley-push")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let serviceDirectory = "\(root)/service"
        try FileManager.default.createDirectory(atPath: serviceDirectory, withIntermediateDirectories: true)
        var service = try await PushService.start(directory: serviceDirectory)
        var node = try await ParleyProcess.start(arguments: arguments, logDirectory: root)
        var http = HTTP(port: node.port)
        do {
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let endpoint = "http://127.0.0.1:\(service.port)/push/bob"
            let keys = ["p256dh": service.p256dh, "auth": service.auth]
            let subscribed = try await http.request("POST", "/api/v1/push/subscriptions", json: ["endpoint": endpoint, "keys": keys], token: bob.accessToken)
            #expect(subscribed.status == 201)
            let again = try await http.request("POST", "/api/v1/push/subscriptions", json: ["endpoint": endpoint, "keys": keys], token: bob.accessToken)
            #expect(again.status == 200 && again.json["id"] as? String == subscribed.json["id"] as? String, "one subscription per endpoint")

            // Added to a group, then mentioned: two pushes, each readable only with the browser's keys.
            let group = try await http.group(alice, members: [bob], title: "Tea party")
            try await http.send("@bob more tea?", to: group, as: alice)
            let mention = try await service.pushes(withBody: "@bob more tea?")[0].payload
            #expect(mention["title"] as? String == "alice mentioned you in Tea party")
            #expect(mention["kind"] as? String == "mention" && mention["conversationId"] as? String == group)
            #expect(mention["url"] as? String == "/?conversation=\(group)")
            let added = try await service.pushes(where: "kind", is: "added_to_group")[0].payload
            #expect(added["conversationId"] as? String == group)
            try await Task.sleep(for: .seconds(1))
            #expect(try service.received().filter { $0.payload["body"] as? String == "@bob more tea?" }.count == 1, "sent once")

            // A second browser whose push service answers 410: that subscription ends.
            let gone = try await http.request(
                "POST", "/api/v1/push/subscriptions",
                json: ["endpoint": "http://127.0.0.1:\(service.port)/gone/bob", "keys": keys], token: bob.accessToken
            )
            let goneID = try #require(gone.json["id"] as? String)
            try await http.send("@bob the other browser", to: group, as: alice)
            _ = try await service.pushes(withBody: "@bob the other browser", count: 2)
            try await eventually(timeout: .seconds(10), "the 410 subscription to go") { () -> Bool? in
                try await http.request("DELETE", "/api/v1/push/subscriptions/\(goneID)", token: bob.accessToken).status == 404 ? true : nil
            }

            // The longest message still makes a push that push services take (they refuse over 4 KiB).
            let long = "@bob " + String(repeating: "é", count: 3_990)
            try await http.send(long, to: group, as: alice)
            try await eventually(timeout: .seconds(20), "the long message's push") { () -> Bool? in
                try service.received().contains { ($0.payload["body"] as? String)?.hasPrefix("@bob éééé") == true } ? true : nil
            }

            // A browser whose push service keeps failing: tried 5 times in all, then given up.
            let failing = try await http.request(
                "POST", "/api/v1/push/subscriptions",
                json: ["endpoint": "http://127.0.0.1:\(service.port)/fail/bob", "keys": keys], token: bob.accessToken
            )
            let failingID = try #require(failing.json["id"] as? String)
            try await http.send("@bob again and again", to: group, as: alice)
            let attempts = { try service.received().filter { $0.path == "/fail/bob" && $0.payload["body"] as? String == "@bob again and again" }.count }
            try await eventually(timeout: .seconds(20), "five attempts") { () -> Bool? in try attempts() >= 5 ? true : nil }
            try await Task.sleep(for: .seconds(2))
            #expect(try attempts() == 5)
            #expect(try await http.request("DELETE", "/api/v1/push/subscriptions/\(failingID)", token: bob.accessToken).status == 204)

            // Muted: the mention reaches the inbox, not the closed browser.
            let mute = try await http.request(
                "PATCH", "/api/v1/conversations/\(group)/preferences",
                json: ["mutedUntil": ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))], token: bob.accessToken
            )
            #expect(mute.status == 200)
            try await http.send("@bob while muted", to: group, as: alice)
            try await Task.sleep(for: .seconds(1.5))
            #expect(try service.received().allSatisfy { $0.payload["body"] as? String != "@bob while muted" })
            let inbox = try await http.request("GET", "/api/v1/notifications", token: bob.accessToken).json["items"] as? [[String: Any]] ?? []
            #expect(inbox.contains { $0["excerpt"] as? String == "@bob while muted" })
            _ = try await http.request("PATCH", "/api/v1/conversations/\(group)/preferences", json: ["mutedUntil": "2000-01-01T00:00:00Z"], token: bob.accessToken)

            // The push service is down, then Parley restarts: the queued push goes out once, after.
            await service.process.stop()
            try await http.send("@bob while the service is down", to: group, as: alice)
            try await Task.sleep(for: .seconds(1.5))
            await node.process.stop()
            service = try await PushService.start(directory: serviceDirectory, port: service.port)
            node = try await ParleyProcess.start(arguments: arguments, logDirectory: root)
            http = HTTP(port: node.port)
            _ = try await service.pushes(withBody: "@bob while the service is down")
            try await Task.sleep(for: .seconds(1.5))
            #expect(try service.received().filter { $0.payload["body"] as? String == "@bob while the service is down" }.count == 1)

            #expect(try service.refused().isEmpty, "every push passed the service's own checks")
        } catch {
            await node.process.stop()
            await service.process.stop()
            throw error
        }
        await node.process.stop()
        await service.process.stop()
    }
}
