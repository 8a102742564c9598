import SQLKit
import Synchronization

/// Writes waiting to share a transaction, taken in batches: all that wait under one key when the
/// previous batch under it ends (up to `writeBatchMaximum`) run one after the other in one
/// transaction and commit together. No write is answered before its batch has committed, and the
/// `committed` callbacks run in the order the writes ran, batch after batch; a batch whose commit
/// fails fails every write in it.
///
/// A write that throws fails alone. The writes of a batch first run without savepoints, which
/// cost PostgreSQL a round trip each; when one throws, the transaction is rolled back and the
/// others run again in a new one, this time each in a savepoint of its own, so that a second
/// failure is rolled back alone too. A write that finds nothing running under its key runs alone.
///
/// SQLite queues every write under one key, its one writer: under load a fifth of a send's time on
/// the writer's thread was its commit (the WAL frames of every page it touched, checksummed and
/// written) and more went to BEGIN and COMMIT themselves, which the writes of a batch share.
/// PostgreSQL queues a node's sends under their conversation: they would otherwise take turns on
/// its counter row, each holding it through its own commit and WAL flush.
final class WriteBatches<Key: Hashable & Sendable>: Sendable {
    /// The writes waiting under each key whose batches are being run; a key is absent when none is.
    private let queues = Mutex<[Key: [any BatchedWrite]]>([:])

    /// Queues `write` under `key`; true when no batch is being run under it and the caller must
    /// start `drain`ing it.
    func enqueue(_ write: any BatchedWrite, under key: Key) -> Bool {
        queues.withLock { queues in
            guard queues[key] == nil else {
                queues[key]!.append(write)
                return false
            }
            queues[key] = [write]
            return true
        }
    }

    /// The writes to run next under `key`, oldest first; nil, ending its drain, when none waits.
    func next(under key: Key) -> [any BatchedWrite]? {
        queues.withLock { queues in
            guard let waiting = queues[key], !waiting.isEmpty else {
                queues[key] = nil
                return nil
            }
            let batch = Array(waiting.prefix(writeBatchMaximum))
            queues[key]!.removeFirst(batch.count)
            return batch
        }
    }
}

/// The most writes one transaction takes: a write waits for at most this many before its commit.
let writeBatchMaximum = 16

extension [any BatchedWrite] {
    /// Runs these writes in one transaction on `sql`, opened with `begin` — again without the one
    /// that throws, in savepoints, if one does; throws what failed a whole batch (each write keeps
    /// its own error).
    func run(begin: String, on sql: any SQLDatabase) async throws {
        do {
            try await run(begin: begin, on: sql, inSavepoints: false)
        } catch let error where count > 1 {
            let others = filter { !$0.hasFailed }
            // None failed alone: BEGIN or COMMIT did, or the connection.
            guard others.count < count else { throw error }
            try await others.run(begin: begin, on: sql, inSavepoints: true)
        }
    }

    private func run(begin: String, on sql: any SQLDatabase, inSavepoints: Bool) async throws {
        try await sql.transaction(
            begin: begin,
            { sql in for write in self { try await write.perform(on: sql, inSavepoint: inSavepoints) } },
            committed: { _ in }
        )
    }

    /// Runs `transaction`, then answers each of these writes: with its own error if it failed,
    /// otherwise with its result if `transaction` succeeded or with `transaction`'s error.
    func answer(after transaction: () async throws -> Void) async {
        let outcome: Result<Void, any Error>
        do {
            try await transaction()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for write in self { write.finish(outcome) }
    }
}

/// One write of a batch, whatever its result type.
protocol BatchedWrite: AnyObject, Sendable {
    /// When it was asked for.
    var requested: ContinuousClock.Instant { get }
    /// Whether it threw when it last ran.
    var hasFailed: Bool { get }
    /// Runs the write, keeping its outcome; throws what leaves the transaction unable to go on —
    /// its own error outside a savepoint, a savepoint's failure inside one.
    func perform(on sql: any SQLDatabase, inSavepoint: Bool) async throws
    /// Answers the caller once the batch has committed, or failed.
    func finish(_ batch: Result<Void, any Error>)
}

/// A write returning `T`, answered through `continuation`.
final class PendingWrite<T: Sendable>: BatchedWrite, @unchecked Sendable {
    let requested = ContinuousClock.now
    private let body: @Sendable (any SQLDatabase) async throws -> T
    private let committed: @Sendable (T) -> Void
    private let continuation: CheckedContinuation<T, any Error>
    // Set by `perform`, read by `finish`: one after the other, by the one task draining the batches.
    private var outcome: Result<T, any Error>?

    init(
        body: @escaping @Sendable (any SQLDatabase) async throws -> T,
        committed: @escaping @Sendable (T) -> Void,
        continuation: CheckedContinuation<T, any Error>
    ) {
        self.body = body
        self.committed = committed
        self.continuation = continuation
    }

    var hasFailed: Bool {
        if case .failure? = outcome { return true }
        return false
    }

    func perform(on sql: any SQLDatabase, inSavepoint: Bool) async throws {
        if inSavepoint { try await sql.raw("SAVEPOINT write").run() }
        do {
            outcome = .success(try await body(sql))
        } catch {
            outcome = .failure(error)
            guard inSavepoint else { throw error }
            try await sql.raw("ROLLBACK TO write").run()
        }
        if inSavepoint { try await sql.raw("RELEASE write").run() }
    }

    func finish(_ batch: Result<Void, any Error>) {
        switch (outcome, batch) {
        case (.failure(let error)?, _):
            continuation.resume(throwing: error)
        case (.success(let value)?, .success):
            committed(value)
            continuation.resume(returning: value)
        case (_, .failure(let error)):
            continuation.resume(throwing: error)
        case (nil, .success):
            preconditionFailure("A batch committed without running one of its writes.")
        }
    }
}
