import Histogram

/// Latencies in an HDR histogram: microseconds from 1 µs to 100 s, three significant digits, so
/// percentiles are exact to 0.1 % whatever the spread. Mergeable across threads and processes.
struct Latencies: Codable, Sendable {
    static let highest: UInt64 = 100_000_000

    private var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: Latencies.highest,
        numberOfSignificantValueDigits: .three
    )

    var count: UInt64 { histogram.totalCount }

    mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(min(max(nanoseconds / 1000, 1), Self.highest))
    }

    mutating func merge(_ other: Latencies) {
        histogram.add(other.histogram)
    }

    mutating func reset() {
        histogram.reset()
    }

    var summary: LatencySummary {
        func ms(_ microseconds: UInt64) -> Double { (Double(microseconds) / 10).rounded() / 100 }
        guard count > 0 else { return LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0) }
        return LatencySummary(
            count: count,
            p50: ms(histogram.valueAtPercentile(50)),
            p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)),
            p999: ms(histogram.valueAtPercentile(99.9)),
            max: ms(histogram.max)
        )
    }
}

/// Percentiles of some latencies, in milliseconds.
struct LatencySummary: Codable, Sendable {
    var count: UInt64
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double

    /// "p50 1.2 · p90 … · max 9.8 ms"
    var line: String {
        "p50 \(p50) · p90 \(p90) · p99 \(p99) · p99.9 \(p999) · max \(max) ms"
    }
}
