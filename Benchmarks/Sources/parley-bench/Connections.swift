import ArgumentParser
import Foundation

/// `parley-bench connections`: many idle authenticated connections, from worker processes.
struct Connections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Idle authenticated connections: how many open, what they cost the server, how fast one message reaches them all.",
        discussion: """
            Registers USERS users and puts them all in one group, starts worker processes (this \
            tool's `hold`) that open CONNECTIONS realtime connections as those users in batches — at \
            most PER-WORKER each, since a process may hold 20,000 descriptors here, and from \
            --source-address in turn when ports run short — holds them idle for HOLD seconds, then \
            sends one message to the group, timing its arrival at each connection. With \
            --server-pid, the server's RSS is read from /proc before, with the connections open, \
            and after holding them.
            """
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Connections to open (1…100000).")
    var connections = 1000

    @Option(help: "Users the connections belong to, each holding connections/users of them (1…1000).")
    var users = 100

    @Option(help: "Connections a worker opens at once (1…2000).")
    var batch = 250

    @Option(help: "Seconds to hold the connections idle before the fan-out (0…600).")
    var hold = 10.0

    @Option(help: "Connections per worker process at most (1…19000).")
    var perWorker = 10_000

    @Option(help: "Source addresses in 127.0.0.0/8 for the workers' connections, taken in turn per worker.")
    var sourceAddress: [String] = []

    @Option(help: "PID of a server process whose RSS to report; repeat for several nodes.")
    var serverPid: [Int32] = []

    func validate() throws {
        try require(connections, in: 1...100_000, "connections")
        try require(users, in: 1...min(1000, connections), "users")
        try require(batch, in: 1...2000, "batch")
        try require(hold, in: 0...600, "hold")
        try require(perWorker, in: 1...19_000, "per-worker")
        for address in sourceAddress where !Node.isLoopback(address) || address.contains(":") {
            throw ValidationError("--source-address \(address) is not an IPv4 address in 127.0.0.0/8.")
        }
        for pid in serverPid where Memory.residentKiB(of: pid) == nil {
            throw ValidationError("no process \(pid) to read the RSS of")
        }
    }

    func run() async throws {
        let nodes = try servers.nodes
        let result = try await withRestClient(servers) { rest in try await measure(nodes: nodes, rest: rest) }
        try report(result, table: result.table, output: output)
        guard result.fanout.lost == 0 else { throw BenchError("\(result.fanout.lost) connections missed the message") }
    }

    private func measure(nodes: [Node], rest: RestClient) async throws -> ConnectionsResult {
        note("registering \(users) users")
        let accounts = try await rest.registerAccounts(users, on: nodes)
        // The group exists before the connections open, so the message's time is delivery alone,
        // not the connections taking up a new subscription.
        let conversationID = try await rest.createGroup(on: nodes[0], owner: accounts[0], members: accounts)
        let rssBefore = serverPid.compactMap(Memory.residentKiB(of:)).reduce(0, +)

        let workerCount = (connections + perWorker - 1) / perWorker
        note("opening \(connections) connections from \(workerCount) worker process(es)")
        var workers: [WorkerProcess] = []
        defer { for worker in workers { worker.terminate() } }
        for index in 0..<workerCount {
            let first = index * perWorker
            var arguments = [
                "hold", "--first", "\(first)", "--connections", "\(min(perWorker, connections - first))", "--batch", "\(batch)",
            ]
            arguments += servers.urls.flatMap { ["--server", $0] }
            if !sourceAddress.isEmpty { arguments += ["--source-address", sourceAddress[index % sourceAddress.count]] }
            workers.append(try WorkerProcess(arguments: arguments, input: HoldAssignment(tokens: accounts.map(\.token))))
        }
        var opened = 0
        var failed = 0
        var openSeconds = 0.0
        var firstError: String?
        for worker in workers {
            let ready = try await worker.next(HoldReport.self)
            opened += ready.opened
            failed += ready.failed
            openSeconds = max(openSeconds, ready.seconds)
            firstError = firstError ?? ready.firstError
        }
        let rssOpen = serverPid.compactMap(Memory.residentKiB(of:)).reduce(0, +)
        note("\(opened) open, \(failed) failed; holding them \(hold) s")
        try await Task.sleep(for: .seconds(hold))
        let rssHeld = serverPid.compactMap(Memory.residentKiB(of:)).reduce(0, +)

        note("fanning one message out to all of them")
        let sentAt = Monotonic.now()
        let status = try await rest.send(
            on: nodes[0], as: accounts[0], to: conversationID, clientMessageID: "\(rest.runTag)-fanout",
            body: BenchBody.make(epoch: 1, index: 0, sentAt: sentAt)
        )
        guard status == 201 else { throw BenchError("sending the message answered \(status)") }
        var totals = DeliveryTotals()
        for worker in workers {
            try worker.send(line: "collect")
            totals.merge(try await worker.next(DeliveryTotals.self))
        }
        for worker in workers {
            try worker.send(line: "close")
            await worker.waitUntilExit()
        }
        let perConnection = opened > 0 && !serverPid.isEmpty ? (Double(rssOpen - rssBefore) / Double(opened)).rounded(2) : nil
        return ConnectionsResult(
            label: output.label,
            nodes: nodes.count,
            requested: connections,
            users: users,
            workers: workerCount,
            opened: opened,
            failed: failed,
            firstError: firstError,
            openSeconds: openSeconds.rounded(2),
            heldSeconds: hold,
            closedWhileHeld: totals.closed,
            serverRSSBeforeKiB: serverPid.isEmpty ? nil : rssBefore,
            serverRSSOpenKiB: serverPid.isEmpty ? nil : rssOpen,
            serverRSSHeldKiB: serverPid.isEmpty ? nil : rssHeld,
            kibPerConnection: perConnection,
            fanout: .init(
                delivered: totals.copies,
                lost: totals.lost,
                duplicated: totals.duplicates,
                toLastMs: totals.copies > 0 ? (Double(totals.lastDelivery - sentAt) / 1e6).rounded(2) : nil,
                latency: totals.latencies.summary
            )
        )
    }
}

/// The JSON line of `connections`.
struct ConnectionsResult: Encodable {
    var scenario = "connections"
    var label: String
    var nodes: Int
    var requested: Int
    var users: Int
    var workers: Int
    var opened: Int
    var failed: Int
    var firstError: String?
    /// Seconds the slowest worker took to open its connections.
    var openSeconds: Double
    var heldSeconds: Double
    /// Connections the server closed while they were held, or before the message reached them.
    var closedWhileHeld: Int
    var serverRSSBeforeKiB: Int?
    var serverRSSOpenKiB: Int?
    var serverRSSHeldKiB: Int?
    /// (RSS with every connection open − RSS before) / connections opened.
    var kibPerConnection: Double?
    var fanout: Delivery

    /// The message sent to the group of every user, as each connection received it.
    struct Delivery: Encodable {
        var delivered: Int
        var lost: Int
        var duplicated: Int
        /// From the send to its arrival at the last connection.
        var toLastMs: Double?
        var latency: LatencySummary
    }

    var table: [(String, String)] {
        var rows = [
            ("connections", "\(opened) of \(requested) open (\(failed) failed) in \(openSeconds) s, \(users) users, \(workers) worker(s), \(nodes) node(s)"),
            ("held", "\(heldSeconds) s idle, \(closedWhileHeld) closed by the server"),
        ]
        if let before = serverRSSBeforeKiB, let open = serverRSSOpenKiB, let held = serverRSSHeldKiB {
            rows.append(("server RSS", "\(before / 1024) MiB before, \(open / 1024) MiB open, \(held / 1024) MiB after holding; \(kibPerConnection ?? 0) KiB per connection"))
        }
        rows.append(("one message", "\(fanout.delivered) delivered, \(fanout.lost) missed; to the last one in \(fanout.toLastMs.map { "\($0) ms" } ?? "—")"))
        rows.append(("per connection", fanout.latency.line))
        if let firstError { rows.append(("first error", firstError)) }
        return rows
    }
}

/// Reads a process's resident memory from /proc.
enum Memory {
    static func residentKiB(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}
