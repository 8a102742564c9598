#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the machine, so a timestamp a
/// sender puts in a message can be compared with the time another process receives it.
enum Monotonic {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Sleeps until the monotonic clock reads `deadline`; returns at once when it already has.
    static func sleep(until deadline: UInt64) async throws {
        let current = now()
        if deadline > current { try await Task.sleep(for: .nanoseconds(deadline - current)) }
    }
}
