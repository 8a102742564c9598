import Metrics
import Synchronization

/// What `/metrics` shows of the database: connections in use, how long operations waited for one
/// and then held it — on PostgreSQL every operation and the pool, on SQLite the writer and its
/// write lock.
enum DatabaseMetrics {
    private static let held = Atomic<Int>(0)
    private static let inUse = Gauge(label: "parley_db_connections_in_use")
    private static let wait = Timer(label: "parley_db_wait_seconds")
    private static let hold = Timer(label: "parley_db_hold_seconds")

    /// Runs `body` as operations that share one connection from now on (one operation, or a batch of writes),
    /// each asked for at its own instant: each counts its wait, and the whole batch as its hold.
    static func holding<T>(since requested: [ContinuousClock.Instant], _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        for instant in requested { wait.record(duration: start - instant) }
        inUse.record(held.add(1, ordering: .relaxed).newValue)
        defer {
            let duration = ContinuousClock.now - start
            for _ in requested { hold.record(duration: duration) }
            inUse.record(held.subtract(1, ordering: .relaxed).newValue)
        }
        return try await body()
    }
}
