import Foundation
import TestSupport
import Testing

/// Two nodes behind a real nginx, configured with `deploy/nginx.conf` (the file the README shows).
@Suite("Behind nginx", .serialized, .timeLimit(.minutes(3)))
struct ReverseProxyTests {
    static let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        "nginx in front of two nodes: REST and WebSocket upgrades pass, a client moved to the other node by a rolling restart resumes without loss, X-Forwarded-For sets the address that rate limits and logs use",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL"),
        .enabled(if: nginx != nil, "needs nginx (scripts/test installs it)")
    )
    func twoNodesBehindNginx() async throws {
        let site = try String(contentsOf: Repository.root.appendingPathComponent("deploy/nginx.conf"), encoding: .utf8)
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(site.trimmingCharacters(in: .newlines)), "the README shows the configuration tested here")
        try await TestBackend.postgres.withLocation { location in
            let logs = try Repository.temporaryDirectory("parley-nginx")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            var nodes: [(node: ParleyProcess, metrics: HTTP)] = []
            var proxy: ChildProcess?
            do {
                for _ in 0..<2 {
                    let metricsPort = try await Self.freePort()
                    let node = try await ParleyProcess.start(
                        arguments: location.arguments + [
                            "--trusted-proxies", "127.0.0.1", "--registrations-per-hour", "2", "--metrics-port", String(metricsPort),
                        ],
                        logDirectory: logs
                    )
                    try await node.waitUntilReady()
                    nodes.append((node, HTTP(port: metricsPort)))
                }
                let port = try await Self.freePort()
                proxy = try Self.startNginx(port: port, upstreams: nodes.map(\.node.port), directory: logs)
                let front = HTTP(port: port)
                try await front.waitUntilReady(timeout: .seconds(10))
                try await exercise(front: front, nodes: nodes)
            } catch {
                await proxy?.stop()
                for (node, _) in nodes { await node.process.stop() }
                throw error
            }
            await proxy?.stop()
            for (node, _) in nodes { await node.process.stop() }
        }
    }

    private func exercise(front: HTTP, nodes: [(node: ParleyProcess, metrics: HTTP)]) async throws {
        // X-Forwarded-For: registrations are limited per client address (2 an hour on each node),
        // and the address is the one nginx saw, whatever the client claims.
        var refusedFrom2 = false
        for attempt in 0..<5 where !refusedFrom2 {
            let status = try await Self.curl(from: "127.0.0.2", port: front.port, register: "from2_\(attempt)", claiming: "203.0.113.\(attempt)")
            #expect(status == 201 || status == 429)
            refusedFrom2 = status == 429
        }
        #expect(refusedFrom2, "127.0.0.2 runs out of registrations")
        #expect(try await Self.curl(from: "127.0.0.3", port: front.port, register: "from3", claiming: nil) == 201, "another address has its own budget")
        let logged = nodes.map { $0.node.process.output() }.joined()
        #expect(logged.contains("client.address=127.0.0.2"))
        #expect(logged.contains("client.address=127.0.0.3"))
        #expect(!logged.contains("client.address=203.0.113."), "a client's own X-Forwarded-For is not believed")

        // Two accounts from 127.0.0.1, within its budget.
        let alice = try await front.register("alice")
        let bob = try await front.register("bob")
        let group = try await front.group(alice, members: [bob])

        // Bob's WebSocket goes through nginx to one of the nodes.
        let first = try await front.connect(bob)
        let seq = try await front.send("through nginx", to: group, as: alice)
        let event = try await first.next(where: { $0.type == "message.created" })
        #expect(event.seq == seq)
        let open = try await nodes.asyncMap { try await Self.openWebSockets(at: $0.metrics) }
        let home = try #require(open.firstIndex(of: 1), "bob's socket is on one node: \(open)")

        // A rolling restart stops his node: he is closed with 1001 while Alice keeps sending.
        await nodes[home].node.process.signal(SIGTERM)
        #expect(try await first.waitForClose() == 1001)
        var sent: [Int64] = []
        for number in 0..<10 { sent.append(try await Self.send("while moving \(number)", to: group, as: alice, through: front)) }

        // Reconnecting through nginx lands on the other node and resumes: nothing lost or doubled.
        let second = try await front.connect(bob, resume: first.cursors)
        try await eventually("the messages sent while he moved") { () -> Bool? in
            Set(sent).isSubset(of: Set(second.events.compactMap(\.seq))) ? true : nil
        }
        let received = (first.events + second.events).filter { $0.type == "message.created" }.compactMap(\.seq)
        #expect(received == [seq] + sent)
        #expect(try await Self.openWebSockets(at: nodes[1 - home].metrics) == 1)
        second.cancel()
    }

    /// Starts nginx in the foreground with `deploy/nginx.conf`, its ports replaced by the test's.
    static func startNginx(port: Int, upstreams: [Int], directory: String) throws -> ChildProcess {
        var site = try String(contentsOf: Repository.root.appendingPathComponent("deploy/nginx.conf"), encoding: .utf8)
        site = site.replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
        site = site.replacingOccurrences(of: "server 127.0.0.1:8081;", with: "server 127.0.0.1:\(upstreams[0]);")
        site = site.replacingOccurrences(of: "server 127.0.0.1:8082;", with: "server 127.0.0.1:\(upstreams[1]);")
        try site.write(toFile: "\(directory)/parley.conf", atomically: true, encoding: .utf8)
        // As root, nginx's workers run as nobody: they need to write their temporary files here.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
        let main = """
            daemon off;
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/nginx-error.log;
            events { worker_connections 1024; }
            http {
                access_log \(directory)/nginx-access.log;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                include \(directory)/parley.conf;
            }
            """
        try main.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        return try ChildProcess(
            executable: try #require(nginx),
            arguments: ["-p", directory, "-e", "\(directory)/nginx-error.log", "-c", "\(directory)/nginx.conf"],
            logPath: "\(directory)/nginx-output.log"
        )
    }

    static func freePort() async throws -> Int {
        let result = try await run([Repository.root.appendingPathComponent("scripts/free-port").path])
        return try #require(Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Registers through nginx from the loopback address `source`, optionally claiming another
    /// address in `X-Forwarded-For`; returns the status.
    static func curl(from source: String, port: Int, register username: String, claiming forwarded: String?) async throws -> Int {
        let body = #"{"username":"\#(username)","email":"\#(username)@example.com","password":"correct horse battery"}"#
        var arguments = [
            "curl", "--silent", "--interface", source, "--output", "/dev/null", "--write-out", "%{http_code}",
            "--header", "Content-Type: application/json", "--data", body,
        ]
        if let forwarded { arguments += ["--header", "X-Forwarded-For: \(forwarded)"] }
        let result = try await run(arguments + ["http://127.0.0.1:\(port)/api/v1/auth/register"])
        return try #require(Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(result.output)")
    }

    /// Sends through nginx, retrying with the same `clientMessageId` when the node that took the
    /// request was stopping (502, 503): what a client does in a rolling restart.
    static func send(_ body: String, to group: String, as account: HTTP.Account, through front: HTTP) async throws -> Int64 {
        let clientMessageID = UUID().uuidString
        for _ in 0..<20 {
            let response = try await front.request(
                "POST", "/api/v1/conversations/\(group)/messages", json: ["clientMessageId": clientMessageID, "body": body], token: account.accessToken
            )
            if let seq = response.json["seq"] as? NSNumber, [200, 201].contains(response.status) { return seq.int64Value }
            guard [502, 503].contains(response.status) else { throw TestSetupError("send: \(response.status) \(response.body)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("send: no node took the message")
    }

    static func openWebSockets(at metrics: HTTP) async throws -> Int {
        let text = try await metrics.request("GET", "/metrics").body
        let line = text.split(separator: "\n").first { $0.hasPrefix("parley_websockets_open ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) } ?? 0
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
