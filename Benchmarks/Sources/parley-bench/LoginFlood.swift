import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1

/// `parley-bench login-flood`: what a flood of wrong passwords does to everyone else.
struct LoginFlood: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-flood",
        abstract: "GET /me latency while many wrong-password logins run at once.",
        discussion: """
            GUESSERS clients each send wrong-password logins for one account, one after another, for \
            SECONDS; meanwhile READERS clients read GET /me in a closed loop. Reports the latency of \
            GET /me and how the logins were answered. Run it against a server with its real bcrypt \
            cost: at cost 4 hashing costs nothing worth measuring.
            """
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Concurrent wrong-password logins (1…1000).")
    var guessers = 200

    @Option(help: "Concurrent GET /me readers (1…64).")
    var readers = 4

    @Option(help: "Seconds of load (1…120).")
    var seconds = 10.0

    func validate() throws {
        try require(guessers, in: 1...1000, "guessers")
        try require(readers, in: 1...64, "readers")
        try require(seconds, in: 1...120, "seconds")
    }

    /// The JSON line of the scenario.
    struct Result: Encodable {
        var scenario = "login-flood"
        var label: String
        var guessers: Int
        var readers: Int
        var seconds: Double
        var me: LatencySummary
        var meRequests: Int
        var logins: [String: Int]
    }

    func run() async throws {
        let node = try servers.nodes[0]
        let result = try await withRestClient(servers) { rest in
            let accounts = try await rest.registerAccounts(2, on: [node])
            let (victim, reader) = (accounts[0], accounts[1])
            let end = Monotonic.now() + UInt64(seconds * 1e9)
            let started = Monotonic.now()
            async let logins = withTaskGroup(of: [UInt: Int].self) { group in
                for guesser in 0..<guessers {
                    group.addTask {
                        var statuses: [UInt: Int] = [:]
                        var attempt = 0
                        while Monotonic.now() < end {
                            let status = (try? await rest.call(
                                .POST, node, "/api/v1/auth/login",
                                json: ["login": victim.username, "password": "wrong guess \(guesser)-\(attempt)"]
                            ).status) ?? 0
                            statuses[status, default: 0] += 1
                            attempt += 1
                        }
                        return statuses
                    }
                }
                return await group.reduce(into: [UInt: Int]()) { $0.merge($1, uniquingKeysWith: +) }
            }
            async let reads = withTaskGroup(of: Latencies.self) { group in
                for _ in 0..<readers {
                    group.addTask {
                        var latencies = Latencies()
                        while case let began = Monotonic.now(), began < end {
                            if (try? await rest.call(.GET, node, "/api/v1/me", token: reader.token).status) == 200 {
                                latencies.record(nanoseconds: Monotonic.now() - began)
                            }
                        }
                        return latencies
                    }
                }
                return await group.reduce(into: Latencies()) { $0.merge($1) }
            }
            let (statuses, latencies) = await (logins, reads)
            return Result(
                label: output.label,
                guessers: guessers,
                readers: readers,
                seconds: (Double(Monotonic.now() - started) / 1e9).rounded(2),
                me: latencies.summary,
                meRequests: Int(latencies.count),
                logins: Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), $0.value) })
            )
        }
        let logins = result.logins.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
        try report(
            result,
            table: [
                ("login-flood", "\(guessers) guessers and \(readers) readers for \(result.seconds) s"),
                ("GET /me", "\(result.meRequests) answered; \(result.me.line)"),
                ("logins", logins),
            ],
            output: output
        )
    }
}
