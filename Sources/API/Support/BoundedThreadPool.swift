package import Foundation
package import Models
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

    /// - Parameters:
    ///   - what: what the jobs do, for the refusal's words ("passwords being checked").
    package init(threads: Int, maxWaiting: Int, jobSeconds: Double, what: String) {
        self.threads = max(1, threads)
        self.maxWaiting = max(0, maxWaiting)
        self.jobSeconds = jobSeconds
        self.what = what
        self.pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
    }

    /// Jobs running or waiting now.
    package var queued: Int { pending.load(ordering: .relaxed) }

    /// Runs `work` on one of the threads, or refuses it when too many already wait.
    package func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let ahead = pending.wrappingAdd(1, ordering: .relaxed).oldValue
        defer { pending.wrappingSubtract(1, ordering: .relaxed) }
        guard ahead < threads + maxWaiting else {
            let seconds = max(1, Int((Double(ahead) / Double(threads) * jobSeconds).rounded(.up)))
            throw Problem(
                code: .unavailable,
                title: "Busy",
                detail: "Too many \(what) right now. Try again in \(seconds) seconds.",
                retryAfter: seconds
            )
        }
        return try await pool.runIfActive(work)
    }

    /// Stops the threads once the jobs queued are done.
    package func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
