package import Foundation
package import Logging
import NIOCore
import NIOPosix
package import SQLKit
import SQLiteKit
import SQLiteNIO
import ServiceLifecycle
import Synchronization

/// The embedded database: one SQLite file in WAL mode, with foreign keys enforced.
///
/// Writes go through one connection, one transaction at a time (`BEGIN IMMEDIATE`, so other
/// processes on the same file wait their turn too), the writes that wait together sharing one
/// (`WriteBatches`); reads spread over a few more connections, which WAL lets run beside the
/// writer. Each connection has a thread of its own (`Lane`). As a `Service` it checkpoints the
/// WAL into the database file every second on a connection of its own, and closes every
/// connection on shutdown.
///
/// Checkpoints are kept off the writer: SQLite runs one inside whichever commit fills the WAL to
/// 1,000 pages, and its writes and fsyncs (about 15 ms here) would hold every write queued behind
/// it — at 50 messages/s, one commit in fifty (measured: the send p99 was 18–25 ms for a p50 of
/// 4). The writer checkpoints itself only past 10,000 pages, should the checkpointer fall behind.
package final class SQLiteDatabase: Database, Service {
    package let kind = DatabaseKind.sqlite
    /// The database file.
    package let path: String

    private let writer: Lane
    private let readers: [Lane]
    private let checkpointer: Lane
    /// Every write waits under one key, the database's path: they all go to the one writer.
    private let writes = WriteBatches<String>()
    private let writeLock = AsyncLock()
    private let nextReader = Atomic<Int>(0)
    private let isClosed = Mutex(false)

    /// How often the WAL is checkpointed.
    package static let checkpointInterval: Duration = .seconds(1)

    private init(path: String, writer: Lane, readers: [Lane], checkpointer: Lane) {
        self.path = path
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
    }

    /// Opens (creating if needed) the database file at `path`.
    package static func open(path: String, readerCount: Int = 3, logger: Logger) async throws -> SQLiteDatabase {
        var opened: [Lane] = []
        do {
            // The writer, the readers, the checkpointer.
            for index in 0...(readerCount + 1) {
                let lane = try await Lane.open(path: path, logger: logger)
                opened.append(lane)
                // busy_timeout replaces sqlite-nio's default handler, which would retry forever. Within
                // one process writes take turns before they reach SQLite; the wait is for other
                // processes on the file, such as several starting at once, each migrating in turn.
                var pragmas = ["PRAGMA busy_timeout = 30000", "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"]
                if index == 0 { pragmas += ["PRAGMA journal_mode = WAL", "PRAGMA wal_autocheckpoint = 10000"] }
                for pragma in pragmas { _ = try await lane.connection.query(pragma) }
            }
        } catch {
            // Cancelled or failed halfway (a test's time limit, a locked file): nothing stays open.
            for lane in opened { await lane.close() }
            throw error
        }
        return SQLiteDatabase(path: path, writer: opened[0], readers: Array(opened.dropFirst().dropLast()), checkpointer: opened[opened.count - 1])
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.add(1, ordering: .relaxed).newValue % readers.count
        return try await readers[index].run(body)
    }

    /// `batch` makes no difference: every write that waits for the writer shares its transaction.
    package func write<T: Sendable>(
        batch: UUID?,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T,
        committed: @escaping @Sendable (T) -> Void
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            if writes.enqueue(PendingWrite(body: body, committed: committed, continuation: continuation), under: path) {
                // Detached: the drain runs every waiting write, not only this caller's, so it takes
                // none of this caller's task-local values or priority. It starts on the writer's
                // thread, where its statements run, rather than passing through the cooperative pool.
                writer.detached { await self.drain() }
            }
        }
    }

    /// Runs the waiting writes, batch after batch, until none waits.
    private func drain() async {
        while let batch = writes.next(under: path) {
            await writeLock.withLock {
                await DatabaseMetrics.holding(since: batch.map(\.requested)) {
                    await batch.answer { try await writer.run { try await batch.run(begin: "BEGIN IMMEDIATE", on: $0) } }
                }
            }
        }
    }

    /// Never: SQLite's writes take turns.
    package func isRetryable(_ error: any Error) -> Bool { false }

    package func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
    }

    /// Checkpoints the WAL every second until graceful shutdown, then closes the connections.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: Self.checkpointInterval)) != nil {
                try? await self.checkpoint()
            }
        }
        try await close()
    }

    /// Copies what the WAL holds into the database file, as far as readers allow, without waiting
    /// for the writer or blocking it (`PASSIVE`).
    package func checkpoint() async throws {
        _ = try await checkpointer.connection.query("PRAGMA wal_checkpoint(PASSIVE)")
    }

    /// Closes every connection; later calls do nothing.
    package func close() async throws {
        let alreadyClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        await writeLock.withLock {
            for lane in readers + [checkpointer, writer] { await lane.close() }
        }
    }
}

/// One SQLite connection and the one thread that runs its statements. Work `run` on a lane runs
/// there whole — the statements and the Swift code between them, one after the other — instead of
/// each statement waiting for a thread of a shared pool and each continuation for a cooperative
/// one: under load those waits were most of a write's time, and every write queued behind them.
/// A thread per connection also keeps long CPU work elsewhere (password hashing) from delaying
/// queries.
private struct Lane: Sendable {
    let connection: SQLiteConnection
    private let pool: NIOThreadPool
    private let executor: ThreadPoolExecutor

    static func open(path: String, logger: Logger) async throws -> Lane {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        do {
            let connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: pool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()
            )
            return Lane(connection: connection, pool: pool, executor: ThreadPoolExecutor(pool: pool))
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(executor) { try await body(connection.sql(queryLogLevel: nil)) }
    }

    /// Starts `body` as a task of its own that prefers this lane's thread.
    func detached(_ body: @escaping @Sendable () async -> Void) {
        Task.detached(executorPreference: executor, operation: body)
    }

    /// Closes the connection and stops its thread. The future-based close runs even when this task
    /// is cancelled, as it is when a service group tears down after an error: a connection must
    /// never be left open.
    func close() async {
        try? await (connection.close() as EventLoopFuture<Void>).get()
        try? await pool.shutdownGracefully()
    }
}
