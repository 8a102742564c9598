package import Foundation
package import Models
import Metrics
import NIOPosix
import Synchronization

/// Threads of their own for CPU-heavy work — password hashing, image processing — never the event
/// loops' or the database's, with a bound on what may wait: past `threads + maxWaiting` jobs, more
/// are refused at once with 503 `unavailable` and a `Retry-After`, rather than queueing without end.
package final class BoundedThreadPool: Sendable {
    /// Threads that run the jobs.
    package let threads: Int
    /// Jobs that may wait for a thread; more are refused.
    package let maxWaiting: Int
    /// Roughly how long one job takes, for the `Retry-After` of a refusal.
    private let jobSeconds: Double
    private let what: String
    private let pool: NIOThreadPool
    private let pending = Atomic<Int>(0)
    /// For `/metrics`: jobs running or waiting, refusals, and how long a job takes from asking to done.
    private let depth: Gauge
    private let refusals: Counter
    private let duration: Timer

    /// - Parameters:
    ///   - what: what the jobs do, for the refusal's words ("passwords being checked").
    ///   - metric: the prefix of its metrics (`parley_<metric>_queued`, `_refused_total`, `_duration_seconds`).
    package init(threads: Int, maxWaiting: Int, jobSeconds: Double, what: String, metric: String) {
        self.threads = max(1, threads)
        self.maxWaiting = max(0, maxWaiting)
        self.jobSeconds = jobSeconds
        self.what = what
        self.pool = NIOThreadPool(numberOfThreads: self.threads)
        self.depth = Gauge(label: "parley_\(metric)_queued")
        self.refusals = Counter(label: "parley_\(metric)_refused_total")
        self.duration = Timer(label: "parley_\(metric)_duration_seconds")
        pool.start()
    }

    /// Jobs running or waiting now.
    package var queued: Int { pending.load(ordering: .relaxed) }

    /// Runs `work` on one of the threads, or refuses it when too many already wait.
    package func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let started = ContinuousClock.now
        let ahead = pending.wrappingAdd(1, ordering: .relaxed).oldValue
        depth.record(ahead + 1)
        defer { depth.record(pending.wrappingSubtract(1, ordering: .relaxed).newValue) }
        guard ahead < threads + maxWaiting else {
            refusals.increment()
            let seconds = max(1, Int((Double(ahead) / Double(threads) * jobSeconds).rounded(.up)))
            throw Problem(
                code: .unavailable,
                title: "Busy",
                detail: "Too many \(what) right now. Try again in \(seconds) seconds.",
                retryAfter: seconds
            )
        }
        defer { duration.record(duration: ContinuousClock.now - started) }
        return try await pool.runIfActive(work)
    }

    /// Stops the threads once the jobs queued are done.
    package func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
