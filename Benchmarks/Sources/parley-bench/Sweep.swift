import ArgumentParser
import Foundation

/// `parley-bench sweep`: fan-out steps at rising rates until the p99 latency passes a threshold.
struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fan-out at rising message rates until p99 send→receive latency passes a threshold.",
        discussion: """
            Builds the same rig as `fanout` once, then runs --runs steps at each rate of --rates \
            in turn, pausing between steps; a rate counts as its worst run (highest p99), so a \
            stall cannot hide between runs. Stops after the first rate whose worst p99 passes \
            --threshold-ms or that lost a copy. Reports every step and the highest rate that held.
            """
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var sizes: FanoutOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Offered rates to try, in messages/s, comma-separated, rising (each 0.1…20000, at most 20).")
    var rates = "25,50,100,200,300,400,600,800"

    @Option(help: "Seconds of sending per step (1…120).")
    var seconds = 8.0

    @Option(help: "The p99 latency a rate must keep to hold, in milliseconds.")
    var thresholdMs = 50.0

    @Option(help: "Seconds of rest between steps (0…30).")
    var pause = 2.0

    @Option(help: "Steps at each rate; the rate counts as its worst (1…10).")
    var runs = 3

    var rateList: [Double] {
        get throws {
            let list = rates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.count <= 20, list.count == rates.split(separator: ",").count, list == list.sorted(),
                list.allSatisfy({ (0.1...20_000).contains($0) })
            else { throw ValidationError("--rates must be up to 20 rising numbers within 0.1…20000, comma-separated.") }
            return list
        }
    }

    func validate() throws {
        _ = try rateList
        try require(seconds, in: 1...120, "seconds")
        try require(pause, in: 0...30, "pause")
        try require(thresholdMs, in: 1...10_000, "threshold-ms")
        try require(runs, in: 1...10, "runs")
    }

    func run() async throws {
        let rates = try rateList
        try await FanoutRig.with(servers: servers, sizes: sizes) { rig in
            var steps: [FanoutStep] = []
            var worst: [FanoutStep] = []
            var held: Double?
            for rate in rates {
                var runsAtRate: [FanoutStep] = []
                for _ in 0..<runs {
                    if !steps.isEmpty { try await Task.sleep(for: .seconds(pause)) }
                    let step = try await rig.step(epoch: steps.count + 1, rate: rate, seconds: seconds)
                    steps.append(step)
                    runsAtRate.append(step)
                    note("\(rate) msg/s: p99 \(step.latency.p99) ms, max \(step.latency.max) ms, \(step.deliveriesPerSecond) deliveries/s, \(step.lost) lost")
                }
                let worstRun = runsAtRate.max { $0.latency.p99 < $1.latency.p99 }!
                worst.append(worstRun)
                guard worstRun.latency.p99 <= thresholdMs, runsAtRate.allSatisfy({ $0.lost == 0 && $0.duplicated == 0 }) else { break }
                held = rate
            }
            let result = SweepResult(label: output.label, thresholdMs: thresholdMs, runs: runs, heldRate: held, worst: worst, steps: steps)
            var table = [("sweep", "\(sizes.members) members on \(rig.nodes.count) node(s), \(sizes.senders) senders, \(seconds) s per run, \(runs) runs per rate")]
            table += worst.map { step in
                let maxOfMax = steps.filter { $0.rate == step.rate }.map(\.latency.max).max() ?? step.latency.max
                return ("\(step.rate) msg/s", "worst \(step.latency.line) (max of all runs \(maxOfMax) ms); \(step.lost) lost, \(step.duplicated) duplicated")
            }
            table.append(("held", held.map { "\($0) msg/s with p99 ≤ \(thresholdMs) ms" } ?? "no rate kept p99 ≤ \(thresholdMs) ms"))
            try report(result, table: table, output: output)
            let lost = steps.reduce(0) { $0 + $1.lost + $1.duplicated }
            guard lost == 0 else { throw BenchError("\(lost) copies lost or duplicated") }
        }
    }
}

/// The JSON line of `sweep`.
struct SweepResult: Encodable {
    var scenario = "sweep"
    var label: String
    var thresholdMs: Double
    /// Steps at each rate.
    var runs: Int
    /// The highest rate whose every step kept p99 within the threshold and lost nothing.
    var heldRate: Double?
    /// The worst step (highest p99) of each rate tried.
    var worst: [FanoutStep]
    var steps: [FanoutStep]
}
