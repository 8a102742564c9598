import ArgumentParser
import Foundation
import NIOCore

/// The sizes of a fan-out rig.
struct FanoutOptions: ParsableArguments {
    @Option(help: "Members of the group, all connected (2…1000).")
    var members = 100

    @Option(help: "Members that send, taking turns (1…members).")
    var senders = 10

    @Option(help: "Seconds to wait after the last send for every copy to arrive (1…60).")
    var drainTimeout = 10.0

    @Option(help: "Sends in flight at most; a send due while this many are pending waits, and its wait counts in its latency (1…1024).")
    var maxInFlight = 256

    @Option(help: "PID of a server process whose CPU time to count over each step; repeat for several nodes.")
    var serverPid: [Int32] = []

    func validate() throws {
        try require(members, in: 2...1000, "members")
        try require(senders, in: 1...members, "senders")
        try require(drainTimeout, in: 1...60, "drain-timeout")
        try require(maxInFlight, in: 1...1024, "max-in-flight")
        for pid in serverPid where ProcessCPU.seconds(of: pid) == nil {
            throw ValidationError("no process \(pid) to read the CPU time of")
        }
    }
}

/// `parley-bench fanout`: one step of sends into a group whose members are all connected.
struct Fanout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send→receive latency of messages fanned out to every member of a group.",
        discussion: """
            Registers MEMBERS users, connects each to the realtime endpoint (spread over the \
            --server nodes), puts them in one group, then has SENDERS of them send RATE messages/s \
            in all over REST for SECONDS. Each message carries the monotonic time it was due; every \
            member's connection records the latency of its copy. Lost or duplicated copies fail the run.
            """
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var sizes: FanoutOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Messages per second offered, over all senders (0.1…20000).")
    var rate = 100.0

    @Option(help: "Seconds of sending (1…600).")
    var seconds = 10.0

    func validate() throws {
        try require(rate, in: 0.1...20_000, "rate")
        try require(seconds, in: 1...600, "seconds")
    }

    func run() async throws {
        try await FanoutRig.with(servers: servers, sizes: sizes) { rig in
            let step = try await rig.step(epoch: 1, rate: rate, seconds: seconds)
            try report(FanoutResult(label: output.label, step: step), table: step.table, output: output)
            guard step.lost == 0, step.duplicated == 0 else {
                throw BenchError("\(step.lost) copies lost and \(step.duplicated) duplicated")
            }
        }
    }
}

/// The JSON line of `fanout`.
struct FanoutResult: Encodable {
    var scenario = "fanout"
    var label: String
    var step: FanoutStep

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(label, forKey: .label)
        try step.encode(to: encoder)
    }

    private enum CodingKeys: String, CodingKey { case scenario, label }
}

/// One step of fan-out at one offered rate.
struct FanoutStep: Codable {
    var nodes: Int
    var members: Int
    var senders: Int
    /// Messages per second offered, and for how long.
    var rate: Double
    var seconds: Double
    var sent: Int
    var sendErrors: Int
    /// Due time to the REST answer of each send.
    var send: LatencySummary
    var copiesExpected: Int
    var delivered: Int
    var lost: Int
    var duplicated: Int
    /// Copies of messages the step did not send, and of earlier steps; both should be 0.
    var unexpected: Int
    var stale: Int
    var closedConnections: Int
    var offeredDeliveriesPerSecond: Double
    var deliveriesPerSecond: Double
    /// Due time of a message to its arrival at one member, per delivered copy.
    var latency: LatencySummary
    /// CPU seconds the `--server-pid` processes used from the step's start to its last copy, and
    /// per 100,000 delivered copies; nil without `--server-pid`.
    var serverCPUSeconds: Double?
    var serverCPUSecondsPer100kCopies: Double?

    var table: [(String, String)] {
        [
            ("fanout", "\(members) members on \(nodes) node(s), \(senders) senders, \(rate) msg/s for \(seconds) s"),
            ("sent", "\(sent) (\(sendErrors) errors), REST answer \(send.line)"),
            ("delivered", "\(delivered) of \(copiesExpected) copies, \(lost) lost, \(duplicated) duplicated"),
            ("deliveries/s", "\(deliveriesPerSecond) achieved, \(offeredDeliveriesPerSecond) offered"),
            ("send→receive", latency.line),
        ] + (serverCPUSeconds.map { cpu in
            [("server CPU", "\(cpu) s, \(serverCPUSecondsPer100kCopies ?? 0) s per 100,000 copies")]
        } ?? [])
    }
}

/// A group whose members are all connected, ready to run steps of sends.
struct FanoutRig {
    let rest: RestClient
    let dialer: Dialer
    let nodes: [Node]
    let members: [Account]
    let senders: [Account]
    let conversationID: String
    let sizes: FanoutOptions

    /// Builds the rig, runs `body`, and closes every connection.
    static func with<T>(servers: ServerOptions, sizes: FanoutOptions, _ body: (FanoutRig) async throws -> T) async throws -> T {
        let nodes = try servers.nodes
        let dialer = Dialer(threads: System.coreCount)
        let rest = RestClient(group: dialer.group, connectionsPerNode: servers.httpConnections)
        var channels: [any Channel] = []
        do {
            note("registering \(sizes.members) users on \(nodes.count) node(s)")
            let members = try await rest.registerAccounts(sizes.members, on: nodes)
            note("connecting them")
            channels = try await connectAll(members, dialer: dialer, nodes: nodes)
            let conversationID = try await rest.createGroup(on: nodes[0], owner: members[0], members: members)
            let rig = FanoutRig(
                rest: rest,
                dialer: dialer,
                nodes: nodes,
                members: members,
                senders: Array(members.prefix(sizes.senders)),
                conversationID: conversationID,
                sizes: sizes
            )
            note("warming up")
            let warmUp = try await rig.step(epoch: 0, rate: 10, seconds: 1)
            guard warmUp.lost == 0 else { throw BenchError("\(warmUp.lost) copies of the warm-up messages did not arrive") }
            let result = try await body(rig)
            try await rest.shutdown()
            await dialer.shutdown(closing: channels)
            return result
        } catch {
            try? await rest.shutdown()
            await dialer.shutdown(closing: channels)
            throw error
        }
    }

    /// Connects every member, member i to node i mod n, 64 at a time.
    private static func connectAll(_ members: [Account], dialer: Dialer, nodes: [Node]) async throws -> [any Channel] {
        try await withThrowingTaskGroup(of: (any Channel).self) { group in
            var channels: [any Channel] = []
            for (index, member) in members.enumerated() {
                if index >= 64, let channel = try await group.next() { channels.append(channel) }
                group.addTask { try await dialer.connect(index, to: nodes[index % nodes.count], token: member.token) }
            }
            for try await channel in group { channels.append(channel) }
            return channels
        }
    }

    /// Sends `rate` messages/s for `seconds`, waits for the copies, and counts them.
    func step(epoch: Int, rate: Double, seconds: Double) async throws -> FanoutStep {
        let total = max(1, Int((rate * seconds).rounded()))
        try await dialer.begin(epoch: epoch, capacity: total)
        let interval = 1e9 / rate
        let start = Monotonic.now() + 20_000_000
        let cpuBefore = serverCPUSeconds
        var sent = Bitset(capacity: total)
        var sendLatencies = Latencies()
        var sendErrors = 0
        try await withThrowingTaskGroup(of: (index: Int, answeredAfter: UInt64, created: Bool).self) { group in
            var inFlight = 0
            func settle(_ result: (index: Int, answeredAfter: UInt64, created: Bool)) {
                inFlight -= 1
                sendLatencies.record(nanoseconds: result.answeredAfter)
                if result.created { _ = sent.insert(result.index) } else { sendErrors += 1 }
            }
            for index in 0..<total {
                let due = start + UInt64(Double(index) * interval)
                try await Monotonic.sleep(until: due)
                while inFlight >= sizes.maxInFlight, let result = try await group.next() { settle(result) }
                let sender = senders[index % senders.count]
                let node = nodes[index % nodes.count]
                group.addTask {
                    let status = try? await rest.send(
                        on: node,
                        as: sender,
                        to: conversationID,
                        clientMessageID: "\(rest.runTag)-\(epoch)-\(index)",
                        body: BenchBody.make(epoch: epoch, index: index, sentAt: due)
                    )
                    return (index, Monotonic.now() - due, status == 201)
                }
                inFlight += 1
            }
            for try await result in group { settle(result) }
        }
        let expected = sent.count * members.count
        let deadline = Monotonic.now() + UInt64(sizes.drainTimeout * 1e9)
        while dialer.uniqueCopies.count < expected, Monotonic.now() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let cpu = serverCPUSeconds.map { $0 - (cpuBefore ?? 0) }
        let totals = try await dialer.collect(sent: sent)
        let elapsed = Double((totals.lastDelivery > start ? totals.lastDelivery : Monotonic.now()) - start) / 1e9
        return FanoutStep(
            nodes: nodes.count,
            members: members.count,
            senders: senders.count,
            rate: rate,
            seconds: seconds,
            sent: sent.count,
            sendErrors: sendErrors,
            send: sendLatencies.summary,
            copiesExpected: expected,
            delivered: totals.copies,
            lost: totals.lost,
            duplicated: totals.duplicates,
            unexpected: totals.unexpected,
            stale: totals.stale,
            closedConnections: totals.closed,
            offeredDeliveriesPerSecond: (rate * Double(members.count)).rounded(1),
            deliveriesPerSecond: (Double(totals.copies) / max(elapsed, 1e-9)).rounded(1),
            latency: totals.latencies.summary,
            serverCPUSeconds: cpu?.rounded(2),
            serverCPUSecondsPer100kCopies: cpu.map { ($0 / Double(max(totals.copies, 1)) * 100_000).rounded(3) }
        )
    }

    /// The `--server-pid` processes' CPU seconds so far; nil without any.
    private var serverCPUSeconds: Double? {
        sizes.serverPid.isEmpty ? nil : sizes.serverPid.compactMap(ProcessCPU.seconds(of:)).reduce(0, +)
    }
}

/// Reads a process's CPU time from /proc.
enum ProcessCPU {
    /// User plus system seconds the process has used.
    static func seconds(of pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
