import Foundation
import TestSupport
import Testing

/// Every scenario of the load tool, at tiny sizes against real `parley` nodes, so the tool keeps
/// working. Its figures are not checked here — only that it ran, reported and lost nothing.
@Suite("parley-bench smoke runs", .serialized, .timeLimit(.minutes(3)))
struct BenchSmokeTests {
    static var executable: String { Repository.productsDirectory.appendingPathComponent("parley-bench").path }

    /// Runs a scenario; expects exit 0 and returns its JSON line of results.
    func bench(_ scenario: String, _ arguments: [String], nodes: [ParleyProcess]) async throws -> [String: Any] {
        let servers = nodes.flatMap { ["--server", "http://127.0.0.1:\($0.port)"] }
        let run = try await run([Self.executable, scenario, "--label", "smoke"] + servers + arguments)
        #expect(run.status == 0, "parley-bench \(scenario) failed:\n\(run.output)")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("{") }, "no JSON line in:\n\(run.output)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(result["scenario"] as? String == scenario)
        #expect(result["label"] as? String == "smoke")
        return result
    }

    @Test("fanout, sweep, connections, history and send run against one node and report")
    func oneNode() async throws {
        try await TestBackend.sqlite.withLocation { location in
            try await ParleyProcess.withNodes(["serve"], location: location) { nodes, _ in
                let fanout = try await bench("fanout", ["--members", "5", "--senders", "2", "--rate", "10", "--seconds", "1"], nodes: nodes)
                #expect(fanout["sent"] as? Int == 10)
                #expect(fanout["delivered"] as? Int == 50 && fanout["lost"] as? Int == 0 && fanout["duplicated"] as? Int == 0)

                let sweep = try await bench(
                    "sweep",
                    ["--members", "3", "--senders", "1", "--rates", "5,10", "--seconds", "1", "--pause", "0", "--runs", "2", "--threshold-ms", "10000"],
                    nodes: nodes
                )
                // A threshold so high that no step exceeds it, even on a busy test machine: both rates
                // run twice, and each has its worst run.
                #expect((sweep["steps"] as? [Any])?.count == 4 && (sweep["worst"] as? [Any])?.count == 2 && sweep["heldRate"] as? Double == 10)

                let pid = await nodes[0].process.pid
                let connections = try await bench(
                    "connections",
                    ["--connections", "30", "--users", "3", "--per-worker", "20", "--batch", "10", "--hold", "0",
                     "--source-address", "127.0.0.2", "--server-pid", "\(pid)"],
                    nodes: nodes
                )
                #expect(connections["opened"] as? Int == 30 && connections["workers"] as? Int == 2)
                #expect((connections["fanout"] as? [String: Any])?["delivered"] as? Int == 30)
                #expect(connections["serverRSSOpenKiB"] is Int)

                let history = try await bench("history", ["--messages", "20", "--page", "5", "--concurrency", "2", "--seconds", "1"], nodes: nodes)
                #expect(history["failed"] as? Int == 0 && (history["succeeded"] as? Int ?? 0) > 0)

                let send = try await bench("send", ["--conversations", "2", "--concurrency", "2", "--seconds", "1"], nodes: nodes)
                #expect(send["failed"] as? Int == 0 && (send["succeeded"] as? Int ?? 0) > 0)
            }
        }
    }

    @Test(
        "fanout spreads members over two nodes on one PostgreSQL",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func twoNodes() async throws {
        try await TestBackend.postgres.withLocation { location in
            try await ParleyProcess.withNodes(["serve", "serve"], location: location) { nodes, _ in
                let fanout = try await bench("fanout", ["--members", "4", "--senders", "2", "--rate", "10", "--seconds", "1"], nodes: nodes)
                #expect(fanout["nodes"] as? Int == 2)
                #expect(fanout["delivered"] as? Int == 40 && fanout["lost"] as? Int == 0)
            }
        }
    }

    @Test("refuses to load anything but loopback, and sizes beyond its bounds")
    func refusals() async throws {
        let remote = try await run([Self.executable, "fanout", "--server", "http://10.1.2.3:8080"])
        #expect(remote.status != 0 && remote.output.contains("loopback"))
        let huge = try await run([Self.executable, "connections", "--connections", "1000000"])
        #expect(huge.status != 0 && huge.output.contains("--connections"))
    }
}
