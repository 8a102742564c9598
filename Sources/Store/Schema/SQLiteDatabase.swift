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
/// processes on the same file wait their turn too), on a thread of their own: a transaction's
/// statements and the Swift code between them all run there, one after the other, instead of each
/// statement waiting for a pool thread and each continuation for a cooperative one — under load
/// those waits were most of a write's time, and every write queued behind them. Reads spread over
/// a few more connections, which WAL lets run beside the writer. As a `Service` it checkpoints the WAL into the database
/// file every second on a connection of its own, and closes every connection on shutdown.
///
/// Checkpoints are kept off the writer: SQLite runs one inside whichever commit fills the WAL to
/// 1,000 pages, and its writes and fsyncs (about 15 ms here) would hold every write queued behind
/// it — at 50 messages/s, one commit in fifty (measured: the send p99 was 18–25 ms for a p50 of
/// 4). The writer checkpoints itself only past 10,000 pages, should the checkpointer fall behind.
package final class SQLiteDatabase: Database, Service {
    package let kind = DatabaseKind.sqlite
    /// The database file.
    package let path: String

    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let checkpointer: SQLiteConnection
    private let threadPool: NIOThreadPool
    /// The writer's own thread: a write transaction runs there, statements and the code between them.
    private let writerPool: NIOThreadPool
    private let writerExecutor: ThreadPoolExecutor
    private let writeLock = AsyncLock()
    private let nextReader = Atomic<Int>(0)
    private let isClosed = Mutex(false)

    /// How often the WAL is checkpointed.
    package static let checkpointInterval: Duration = .seconds(1)

    private init(
        path: String, writer: SQLiteConnection, readers: [SQLiteConnection], checkpointer: SQLiteConnection, threadPool: NIOThreadPool, writerPool: NIOThreadPool
    ) {
        self.path = path
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.threadPool = threadPool
        self.writerPool = writerPool
        self.writerExecutor = ThreadPoolExecutor(pool: writerPool)
    }

    /// Opens (creating if needed) the database file at `path`.
    package static func open(path: String, readerCount: Int = 3, logger: Logger) async throws -> SQLiteDatabase {
        // A pool of its own: long CPU work elsewhere (password hashing) must never queue up queries.
        let threadPool = NIOThreadPool(numberOfThreads: readerCount + 1)
        threadPool.start()
        let writerPool = NIOThreadPool(numberOfThreads: 1)
        writerPool.start()
        var opened: [SQLiteConnection] = []
        do {
            // The writer, the readers, the checkpointer.
            for index in 0...(readerCount + 1) {
                let connection = try await SQLiteConnection.open(
                    storage: .file(path: path),
                    threadPool: index == 0 ? writerPool : threadPool,
                    logger: logger,
                    on: MultiThreadedEventLoopGroup.singleton.any()
                )
                opened.append(connection)
                // busy_timeout replaces sqlite-nio's default handler, which would retry forever. Within
                // one process writes take turns before they reach SQLite; the wait is for other
                // processes on the file, such as several starting at once, each migrating in turn.
                var pragmas = ["PRAGMA busy_timeout = 30000", "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"]
                if index == 0 { pragmas += ["PRAGMA journal_mode = WAL", "PRAGMA wal_autocheckpoint = 10000"] }
                for pragma in pragmas { _ = try await connection.query(pragma) }
            }
        } catch {
            // Cancelled or failed halfway (a test's time limit, a locked file): nothing stays open.
            for connection in opened { try? await (connection.close() as EventLoopFuture<Void>).get() }
            try? await threadPool.shutdownGracefully()
            try? await writerPool.shutdownGracefully()
            throw error
        }
        return SQLiteDatabase(
            path: path, writer: opened[0], readers: Array(opened.dropFirst().dropLast()), checkpointer: opened[opened.count - 1], threadPool: threadPool,
            writerPool: writerPool
        )
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.add(1, ordering: .relaxed).newValue % readers.count
        return try await body(readers[index].sql(queryLogLevel: nil))
    }

    package func write<T: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T,
        committed: @escaping @Sendable (T) -> Void
    ) async throws -> T {
        let requested = ContinuousClock.now
        return try await writeLock.withLock {
            try await DatabaseMetrics.holding(since: requested) {
                // On the writer's thread, a transaction's statements follow each other without
                // waiting for a thread of the shared pool to pick each one up.
                try await withTaskExecutorPreference(writerExecutor) {
                    let sql = writer.sql(queryLogLevel: nil)
                    return try await sql.transaction(begin: "BEGIN IMMEDIATE", body, committed: committed)
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
        _ = try await checkpointer.query("PRAGMA wal_checkpoint(PASSIVE)")
    }

    /// Closes every connection; later calls do nothing.
    package func close() async throws {
        let alreadyClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        // The future-based close runs even when this task is cancelled, as it is when a service group
        // tears down after an error: a connection must never be left open.
        await writeLock.withLock {
            for connection in readers + [checkpointer, writer] {
                try? await (connection.close() as EventLoopFuture<Void>).get()
            }
        }
        try await threadPool.shutdownGracefully()
        try await writerPool.shutdownGracefully()
    }
}
