import ArgumentParser
import Foundation

/// `parley-bench sweep`: fan-out steps at rising rates until the p99 latency passes a threshold.
struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fan-out at rising message rates until p99 send→receive latency passes a threshold.",
        discussion: """
            Builds the same rig as `fanout` once, then runs a step at each rate of --rates in \
            turn, pausing between steps, and stops after the first step whose p99 passes \
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
    }

    func run() async throws {
        let rates = try rateList
        try await FanoutRig.with(servers: servers, sizes: sizes) { rig in
            var steps: [FanoutStep] = []
            var held: Double?
            for (number, rate) in rates.enumerated() {
                if number > 0 { try await Task.sleep(for: .seconds(pause)) }
                let step = try await rig.step(epoch: number + 1, rate: rate, seconds: seconds)
                steps.append(step)
                note("\(rate) msg/s: p99 \(step.latency.p99) ms, \(step.deliveriesPerSecond) deliveries/s, \(step.lost) lost")
                guard step.latency.p99 <= thresholdMs, step.lost == 0, step.duplicated == 0 else { break }
                held = rate
            }
            let result = SweepResult(label: output.label, thresholdMs: thresholdMs, heldRate: held, steps: steps)
            var table = [("sweep", "\(sizes.members) members on \(rig.nodes.count) node(s), \(sizes.senders) senders, \(seconds) s per rate")]
            table += steps.map { ("\($0.rate) msg/s", "\($0.latency.line); \($0.lost) lost, \($0.duplicated) duplicated") }
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
    /// The highest rate whose step kept p99 within the threshold and lost nothing.
    var heldRate: Double?
    var steps: [FanoutStep]
}
