import Foundation
import TestSupport

/// A `parley` process built by this package, serving on a real socket.
struct ParleyProcess {
    let process: ChildProcess
    let port: Int

    static var executable: String { Repository.productsDirectory.appendingPathComponent("parley").path }

    /// Runs one node of `parley` per subcommand on `location`, ready, then stops them all.
    static func withNodes(
        _ subcommands: [String],
        location: TestBackend.Location,
        _ body: ([ParleyProcess], String) async throws -> Void
    ) async throws {
        let logs = try Repository.temporaryDirectory("parley-live")
        defer { try? FileManager.default.removeItem(atPath: logs) }
        var nodes: [ParleyProcess] = []
        do {
            for subcommand in subcommands {
                let node = try await start(subcommand, arguments: location.arguments, logDirectory: logs)
                try await HTTP(port: node.port).waitUntilReady()
                nodes.append(node)
            }
            try await body(nodes, logs)
        } catch {
            for node in nodes { await node.process.stop() }
            throw error
        }
        for node in nodes { await node.process.stop() }
    }

    /// Starts `parley serve` (or another subcommand) on a free port and waits until it listens.
    static func start(
        _ subcommand: String = "serve",
        arguments: [String] = [],
        environment: [String: String] = [:],
        logDirectory: String
    ) async throws -> ParleyProcess {
        // Cheap hashing and no registration limit, where the subcommand serves the REST API.
        let fast = subcommand == "realtime" ? [] : ["--password-cost", "4", "--registrations-per-hour", "100000"]
        let process = try ChildProcess(
            executable: executable,
            arguments: [subcommand, "--port", "0"] + fast + arguments,
            environment: environment,
            logPath: "\(logDirectory)/parley-\(UUID().uuidString.prefix(8)).log"
        )
        // The /metrics listener, when there is one, says it listens too.
        let metricsPort = arguments.firstIndex(of: "--metrics-port").flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil }
        let port = try await eventually(timeout: .seconds(30), "parley to listen") { () -> Int? in
            if await !process.isRunning { throw TestSetupError("parley exited:\n\(process.output())") }
            return Self.listeningPorts(in: process.output()).first { $0 != metricsPort }
        }
        return ParleyProcess(process: process, port: port)
    }

    /// The ports of Hummingbird's "Server started and listening on HOST:PORT" lines (in text or JSON).
    static func listeningPorts(in log: String) -> [Int] {
        log.components(separatedBy: "listening on ").dropFirst().compactMap { rest in
            let address = rest.prefix { !$0.isWhitespace && $0 != "\"" }
            return address.split(separator: ":").last.flatMap { Int($0) }
        }
    }

    /// Sends a request and returns the status, headers and body.
    func request(
        _ method: String,
        _ path: String,
        json: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        var headers = headers
        if json != nil { headers["Content-Type"] = "application/json" }
        let response = try await HTTP(port: port).request(method, path, body: json, headers: headers)
        return (response.status, response.headers, response.body)
    }

    /// Waits for `GET /readyz` to answer 200.
    func waitUntilReady() async throws {
        try await eventually(timeout: .seconds(30), "/readyz to answer 200") { () -> Bool? in
            (try? await request("GET", "/readyz").status) == 200 ? true : nil
        }
    }
}
