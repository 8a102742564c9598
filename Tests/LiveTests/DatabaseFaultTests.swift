import Foundation
import Synchronization
import TestSupport
import Testing

/// PostgreSQL failing under live nodes: unreachable or silent behind a proxy, and restarted or
/// stopped (on a cluster of the test's own: the suite's shared one must not be restarted under
/// the other tests).
@Suite("Database faults", .timeLimit(.minutes(3)))
struct DatabaseFaultTests {
    @Test(
        "PostgreSQL restarted (pg_ctl restart -m fast), then stopped for 3 s, while members send over REST and receive over WebSockets on two nodes: only 201 or 503 with Retry-After, readyz follows, both nodes recover within 5 s, every acknowledged message reaches every member exactly once",
        .enabled(if: TestBackend.postgresURL != nil, "needs PostgreSQL's binaries, as TEST_DATABASE_URL does")
    )
    func restartUnderLoad() async throws {
        let cluster = try await PostgresCluster.start()
        do {
            try await ParleyProcess.withNodes(["serve", "serve"], location: .postgres(url: cluster.url)) { nodes, _ in
                try await exercise(nodes, cluster: cluster)
            }
        } catch {
            await cluster.remove()
            throw error
        }
        await cluster.remove()
    }

    @Test(
        "readyz answers 503 while PostgreSQL is unreachable, and 200 again once it is back",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func readinessFollowsTheDatabase() async throws {
        try await Self.withNodeBehindProxy { node, proxy in
            #expect(try await node.request("GET", "/readyz").status == 200)
            await proxy.cut()
            let down = try await node.request("GET", "/readyz")
            #expect(down.status == 503)
            #expect(down.body.contains("database"))
            #expect(try await node.request("GET", "/healthz").status == 200)
            proxy.restore()
            try await eventually(timeout: .seconds(20), "readiness after the database came back") { () -> Bool? in
                try await node.request("GET", "/readyz").status == 200 ? true : nil
            }
        }
    }

    @Test(
        "A PostgreSQL that stops answering without closing its connections: requests answer 503 with Retry-After within the timeouts (5 s for a connection, 15 s for the queries), readyz says so, and all is well once it answers again",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func stalledDatabase() async throws {
        try await Self.withNodeBehindProxy { node, proxy in
            let http = HTTP(port: node.port)
            let alice = try await http.register("stalled")
            let group = try await http.group(alice, members: [])
            await proxy.stall()
            // Twenty requests at once, reads and writes, while nothing answers: each ends within the
            // timeouts with a 503 that says when to retry.
            let started = ContinuousClock.now
            let answers = try await withThrowingTaskGroup(of: (Int, String?, Duration).self) { requests in
                for index in 0..<20 {
                    requests.addTask {
                        let response = index.isMultiple(of: 2)
                            ? try await http.request("GET", "/api/v1/me", token: alice.accessToken, timeout: .seconds(30))
                            : try await http.request(
                                "POST", "/api/v1/conversations/\(group)/messages",
                                json: ["body": "while stalled", "clientMessageId": "stalled-\(index)"], token: alice.accessToken, timeout: .seconds(30)
                            )
                        return (response.status, response.headers["retry-after"], ContinuousClock.now - started)
                    }
                }
                return try await requests.reduce(into: []) { $0.append($1) }
            }
            for (status, retryAfter, elapsed) in answers {
                #expect(status == 503)
                #expect(retryAfter == "2")
                #expect(elapsed < .seconds(21), "bounded by the timeouts, not by the database")
            }
            #expect(try await node.request("GET", "/readyz").status == 503)

            await proxy.unstall()
            try await eventually(timeout: .seconds(20), "requests served again") { () -> Bool? in
                try await http.request("GET", "/api/v1/me", token: alice.accessToken).status == 200 ? true : nil
            }
            #expect(try await node.request("GET", "/readyz").status == 200)
            #expect(try await http.send("after the stall", to: group, as: alice) > 0)
        }
    }

    /// A `parley serve` whose PostgreSQL (a schema of the test database) is reached through a
    /// proxy the test can cut or stall.
    private static func withNodeBehindProxy(_ body: @escaping @Sendable (ParleyProcess, TCPProxy) async throws -> Void) async throws {
        let postgresURL = try #require(TestBackend.postgresURL)
        let target = try #require(URLComponents(string: postgresURL))
        let proxy = try await TCPProxy(to: target.host ?? "127.0.0.1", port: target.port ?? 5432)
        do {
            try await TestBackend.postgres.withLocation { location in
                guard case .postgres(let url) = location, var proxied = URLComponents(string: url) else { return }
                proxied.port = proxy.port
                let proxiedURL = try #require(proxied.string)
                try await ParleyProcess.withNodes(["serve"], location: .postgres(url: proxiedURL)) { nodes, _ in
                    try await body(nodes[0], proxy)
                }
            }
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    private func exercise(_ nodes: [ParleyProcess], cluster: PostgresCluster) async throws {
        let rest = HTTP(port: nodes[0].port)
        let alice = try await rest.register("alice")
        let bob = try await rest.register("bob")
        let carol = try await rest.register("carol")
        let group = try await rest.group(alice, members: [bob, carol])
        let ports = nodes.map(\.port)
        let followers = [
            Follower(alice, name: "alice", group: group, ports: ports), Follower(bob, name: "bob", group: group, ports: ports.reversed()),
            Follower(carol, name: "carol", group: group, ports: ports),
        ]
        let senders = [Sender(alice, name: "alice", group: group, ports: ports), Sender(bob, name: "bob", group: group, ports: ports.reversed())]
        let stop = Flag()

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for follower in followers { tasks.addTask { await follower.run() } }
            for sender in senders { tasks.addTask { await sender.run(until: stop) } }
            defer { tasks.cancelAll() }

            try await Task.sleep(for: .milliseconds(1500))
            try await cluster.run("restart")
            let afterRestart = try await recovery(of: nodes)
            print("Recovery after pg_ctl restart -m fast: \(afterRestart)")
            #expect(afterRestart < .seconds(5))

            try await Task.sleep(for: .milliseconds(1500))
            try await cluster.run("down")
            // While it is down, both nodes say they are not ready.
            for node in nodes {
                try await eventually(timeout: .seconds(5), "readyz 503 while PostgreSQL is down") { () -> Bool? in
                    try await node.request("GET", "/readyz").status == 503 ? true : nil
                }
            }
            try await Task.sleep(for: .seconds(3))
            try await cluster.run("up")
            let afterStart = try await recovery(of: nodes)
            print("Recovery after 3 s down: \(afterStart)")
            #expect(afterStart < .seconds(5))

            try await Task.sleep(for: .milliseconds(1500))
            stop.set()
            for _ in senders { try await tasks.next() }

            var acknowledged: Set<String> = []
            var seqs: [String: Int64] = [:]
            for sender in senders {
                let report = sender.report
                #expect(report.unexpected.isEmpty, "only 201, 200 (a retried send) or 503: \(report.unexpected)")
                #expect(report.refusedWithoutRetryAfter == 0)
                #expect(report.slowest < .seconds(21), "within the 5 s connection and 15 s operation bounds")
                print("\(sender.name): \(report.acknowledged.count) sent, \(report.refused) answered 503, slowest answer \(report.slowest)")
                acknowledged.formUnion(report.acknowledged)
                seqs.merge(report.seqs) { first, _ in first }
            }
            #expect(senders.allSatisfy { $0.report.refused > 0 }, "the outage was felt")
            #expect(acknowledged.count > 20)

            for follower in followers {
                let deadline = ContinuousClock.now + .seconds(20)
                while !acknowledged.isSubset(of: follower.messageIDs), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                let missing = acknowledged.subtracting(follower.messageIDs)
                #expect(
                    missing.isEmpty,
                    "\(follower.name) is missing seq \(missing.compactMap { seqs[$0] }.sorted()) of \(acknowledged.count); received \(follower.received.joined(separator: " ")); \(follower.history)"
                )
                let received = follower.received
                #expect(Set(received).count == received.count, "no event twice: \(received.count - Set(received).count) repeated")
                #expect(follower.messageIDs.count == Set(follower.messageIDs).count)
            }
        }
    }

    /// How long, from now, until both nodes are ready and serve a request that reads the database.
    private func recovery(of nodes: [ParleyProcess]) async throws -> Duration {
        let back = ContinuousClock.now
        for node in nodes {
            try await eventually(timeout: .seconds(20), "node ready again") { () -> Bool? in
                try await node.request("GET", "/readyz").status == 200 ? true : nil
            }
        }
        return ContinuousClock.now - back
    }
}

/// A PostgreSQL cluster of the test's own, from `scripts/postgres-sandbox`.
private struct PostgresCluster {
    let directory: String
    let url: String

    static func start() async throws -> PostgresCluster {
        let directory = try Repository.temporaryDirectory("parley-pg")
        let started = try await TestSupport.run([script, "start", directory])
        guard started.status == 0, let url = started.output.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }) else {
            throw TestSetupError("postgres-sandbox start: \(started.output)")
        }
        return PostgresCluster(directory: directory, url: String(url))
    }

    static var script: String { Repository.root.appendingPathComponent("scripts/postgres-sandbox").path }

    /// Runs `restart`, `down` or `up` on the cluster.
    func run(_ command: String) async throws {
        let result = try await TestSupport.run([Self.script, command, directory])
        guard result.status == 0 else { throw TestSetupError("postgres-sandbox \(command): \(result.output)") }
    }

    func remove() async {
        _ = try? await TestSupport.run([Self.script, "stop", directory])
    }
}

/// Set once, read from any task.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Sends numbered messages over REST, alternating between nodes, until stopped; a send answered
/// 503 is retried with the same `clientMessageId` until it is acknowledged.
private final class Sender: Sendable {
    struct Report {
        var acknowledged: [String] = []
        var seqs: [String: Int64] = [:]
        var refused = 0
        var refusedWithoutRetryAfter = 0
        var unexpected: [String] = []
        var slowest: Duration = .zero
    }

    let name: String
    private let account: HTTP.Account
    private let group: String
    private let ports: [Int]
    private let state = Mutex(Report())

    init(_ account: HTTP.Account, name: String, group: String, ports: [Int]) {
        self.account = account
        self.name = name
        self.group = group
        self.ports = ports
    }

    var report: Report { state.withLock { $0 } }

    func run(until stop: Flag) async {
        var number = 0
        var attempt = 0
        while !stop.isSet {
            let http = HTTP(port: ports[attempt % ports.count])
            attempt += 1
            let started = ContinuousClock.now
            do {
                let response = try await http.request(
                    "POST",
                    "/api/v1/conversations/\(group)/messages",
                    json: ["clientMessageId": "\(name)-\(number)", "body": "\(name) \(number)"],
                    token: account.accessToken,
                    headers: ["X-Request-Id": "\(name)-\(number)-\(attempt)"],
                    timeout: .seconds(25)
                )
                let elapsed = ContinuousClock.now - started
                state.withLock { report in
                    report.slowest = max(report.slowest, elapsed)
                    switch response.status {
                    case 200, 201:
                        if let id = response.json["id"] as? String { report.acknowledged.append(id) }
                        if let id = response.json["id"] as? String, let seq = response.json["seq"] as? NSNumber { report.seqs[id] = seq.int64Value }
                        number += 1
                    case 503:
                        report.refused += 1
                        if response.headers["retry-after"] == nil { report.refusedWithoutRetryAfter += 1 }
                    default:
                        report.unexpected.append("\(response.status) \(response.body)")
                    }
                }
            } catch {
                state.withLock { $0.unexpected.append("no answer within 25 s to \(name)-\(number)-\(attempt): \(error)") }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Follows a member's events over a WebSocket, reconnecting and resuming (to the next node) each
/// time the socket closes, and keeps everything received.
private final class Follower: Sendable {
    let name: String
    private let account: HTTP.Account
    private let group: String
    private let ports: [Int]
    private let frames = Mutex<[RealtimeClient.Frame]>([])
    private let connections = Mutex<[String]>([])

    init(_ account: HTTP.Account, name: String, group: String, ports: [Int]) {
        self.account = account
        self.name = name
        self.group = group
        self.ports = ports
    }

    /// Each connection it opened: its node, how it ended, what it received.
    var history: String { connections.withLock { $0.joined(separator: "; ") } }

    /// Every logged event received, as `stream/seq`.
    var received: [String] { frames.withLock { $0.compactMap { frame in frame.seq.map { "\(frame.stream ?? "")/\($0)" } } } }

    /// The ids of the messages received.
    var messageIDs: [String] { frames.withLock { $0.filter { $0.type == "message.created" }.compactMap { $0.data["id"] as? String } } }

    func run() async {
        var attempt = 0
        while !Task.isCancelled {
            let http = HTTP(port: ports[attempt % ports.count])
            attempt += 1
            let cursors = frames.withLock { frames in
                // The group from its start: its first messages may be sent while this first connects.
                var cursors = ["conversation:\(group)": Int64(0)]
                for frame in frames { if let stream = frame.stream, let seq = frame.seq { cursors[stream] = seq } }
                return cursors
            }
            guard let client = try? await http.connect(account, resume: cursors) else {
                connections.withLock { $0.append("port \(http.port): could not connect") }
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            var seen = 0
            while !Task.isCancelled {
                let all = client.frames
                if all.count > seen {
                    frames.withLock { $0.append(contentsOf: all[seen...].filter { $0.seq != nil }) }
                    seen = all.count
                }
                if client.closed { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            let received = client.frames.filter { $0.type == "message.created" }.count
            connections.withLock { $0.append("port \(http.port): \(received) messages, closed \(client.closeCode.map(String.init) ?? (client.closed ? "without code" : "by the test"))") }
            client.cancel()
        }
    }
}
