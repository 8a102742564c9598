import ArgumentParser
import NIOCore
import NIOPosix
import NIOHTTP1

/// The shape of a closed-loop REST load: so many clients, each sending its next request when the
/// previous one answered, for so long.
struct LoadOptions: ParsableArguments {
    @Option(help: "Clients, each with one request at a time (1…256).")
    var concurrency = 16

    @Option(help: "Seconds of load (1…600).")
    var seconds = 10.0

    func validate() throws {
        try require(concurrency, in: 1...256, "concurrency")
        try require(seconds, in: 1...600, "seconds")
    }

    /// Runs `request(client, n)` in `concurrency` loops until time is up.
    func run(_ request: @escaping @Sendable (_ client: Int, _ iteration: Int) async -> Bool) async -> LoadTotals {
        let start = Monotonic.now()
        let end = start + UInt64(seconds * 1e9)
        var totals = await withTaskGroup(of: LoadTotals.self) { group in
            for client in 0..<concurrency {
                group.addTask {
                    var totals = LoadTotals()
                    var iteration = 0
                    while case let began = Monotonic.now(), began < end {
                        let succeeded = await request(client, iteration)
                        totals.latencies.record(nanoseconds: Monotonic.now() - began)
                        if succeeded { totals.succeeded += 1 } else { totals.failed += 1 }
                        iteration += 1
                    }
                    return totals
                }
            }
            return await group.reduce(into: LoadTotals()) { $0.merge($1) }
        }
        totals.seconds = Double(Monotonic.now() - start) / 1e9
        return totals
    }
}

/// Runs `work(i)` for every i in 0..<count, `width` at a time; returns how many failed.
func concurrently(_ count: Int, width: Int, _ work: @escaping @Sendable (Int) async -> Bool) async -> Int {
    await withTaskGroup(of: Bool.self) { group in
        var failed = 0
        for index in 0..<count {
            if index >= width, let succeeded = await group.next(), !succeeded { failed += 1 }
            group.addTask { await work(index) }
        }
        for await succeeded in group where !succeeded { failed += 1 }
        return failed
    }
}

/// What a closed-loop load achieved.
struct LoadTotals: Sendable {
    var latencies = Latencies()
    var succeeded = 0
    var failed = 0
    var seconds = 0.0

    mutating func merge(_ other: LoadTotals) {
        latencies.merge(other.latencies)
        succeeded += other.succeeded
        failed += other.failed
    }

    var perSecond: Double { (Double(succeeded) / max(seconds, 1e-9)).rounded(1) }
}

/// The JSON line of `history` and `send`.
struct LoadResult: Encodable {
    var scenario: String
    var label: String
    var nodes: Int
    var concurrency: Int
    var seconds: Double
    /// Messages in the conversation read (`history`), or conversations written (`send`).
    var messages: Int?
    var conversations: Int?
    var succeeded: Int
    var failed: Int
    var perSecond: Double
    var latency: LatencySummary

    init(_ scenario: String, label: String, nodes: Int, load: LoadOptions, totals: LoadTotals, messages: Int? = nil, conversations: Int? = nil) {
        self.scenario = scenario
        self.label = label
        self.nodes = nodes
        concurrency = load.concurrency
        seconds = totals.seconds.rounded(2)
        self.messages = messages
        self.conversations = conversations
        succeeded = totals.succeeded
        failed = totals.failed
        perSecond = totals.perSecond
        latency = totals.latencies.summary
    }

    var table: [(String, String)] {
        [
            (scenario, "\(concurrency) clients for \(seconds) s on \(nodes) node(s)" + (messages.map { ", \($0) messages" } ?? "") + (conversations.map { ", \($0) conversation(s)" } ?? "")),
            ("throughput", "\(perSecond)/s (\(succeeded) ok, \(failed) failed)"),
            ("latency", latency.line),
        ]
    }
}

/// Runs `body` with a REST client on an event loop group of its own.
func withRestClient<T>(_ servers: ServerOptions, _ body: (RestClient) async throws -> T) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
    let rest = RestClient(group: group, connectionsPerNode: servers.httpConnections)
    do {
        let result = try await body(rest)
        try await rest.shutdown()
        try await group.shutdownGracefully()
        return result
    } catch {
        try? await rest.shutdown()
        try? await group.shutdownGracefully()
        throw error
    }
}

/// `parley-bench history`: concurrent pages of a conversation's history.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Concurrent history pages (GET /conversations/{id}/messages) at random positions.",
        discussion: "Seeds a group with MESSAGES messages over REST, then reads PAGE-message pages before random seqs."
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var load: LoadOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Messages to seed the conversation with (1…100000).")
    var messages = 2000

    @Option(help: "Messages per page (1…200).")
    var page = 50

    func validate() throws {
        try require(messages, in: 1...100_000, "messages")
        try require(page, in: 1...200, "page")
    }

    func run() async throws {
        let nodes = try servers.nodes
        let result = try await withRestClient(servers) { rest in
            let accounts = try await rest.registerAccounts(2, on: nodes)
            let conversationID = try await rest.createGroup(on: nodes[0], owner: accounts[0], members: accounts)
            note("seeding \(messages) messages")
            let failed = await concurrently(messages, width: 32) { index in
                (try? await rest.send(
                    on: nodes[index % nodes.count], as: accounts[index % 2], to: conversationID,
                    clientMessageID: "\(rest.runTag)-seed-\(index)", body: "history message \(index)"
                )) == 201
            }
            guard failed == 0 else { throw BenchError("\(failed) seed messages failed") }
            note("reading pages")
            let path = "/api/v1/conversations/\(conversationID)/messages?limit=\(page)&before="
            let totals = await load.run { client, _ in
                let before = Int.random(in: 2...(messages + 1))
                return (try? await rest.call(.GET, nodes[client % nodes.count], path + "\(before)", token: accounts[client % 2].token).status) == 200
            }
            return LoadResult("history", label: output.label, nodes: nodes.count, load: load, totals: totals, messages: messages)
        }
        try report(result, table: result.table, output: output)
        guard result.failed == 0 else { throw BenchError("\(result.failed) requests failed") }
    }
}

/// `parley-bench send`: concurrent REST sends.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Concurrent sends (POST /conversations/{id}/messages) into one or more conversations.",
        discussion: "Client n sends as its own user into conversation n mod CONVERSATIONS, each message with a new clientMessageId."
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var load: LoadOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Conversations sent into (1…256), each a group of every client's user.")
    var conversations = 1

    func validate() throws {
        try require(conversations, in: 1...256, "conversations")
    }

    func run() async throws {
        let nodes = try servers.nodes
        let result = try await withRestClient(servers) { rest in
            let accounts = try await rest.registerAccounts(max(2, load.concurrency), on: nodes)
            var conversationIDs: [String] = []
            for _ in 0..<conversations {
                conversationIDs.append(try await rest.createGroup(on: nodes[0], owner: accounts[0], members: accounts))
            }
            let targets = conversationIDs
            let totals = await load.run { client, iteration in
                (try? await rest.send(
                    on: nodes[client % nodes.count], as: accounts[client], to: targets[client % targets.count],
                    clientMessageID: "\(rest.runTag)-\(client)-\(iteration)", body: "send benchmark \(iteration)"
                )) == 201
            }
            return LoadResult("send", label: output.label, nodes: nodes.count, load: load, totals: totals, conversations: conversations)
        }
        try report(result, table: result.table, output: output)
        guard result.failed == 0 else { throw BenchError("\(result.failed) sends failed") }
    }
}
