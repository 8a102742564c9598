import SQLKit
import Synchronization

/// Writes waiting for SQLite's one writer, taken in batches: all that wait when the writer becomes
/// free (up to `maximum`) run in one transaction, each inside a savepoint of its own, and commit
/// together. A write that fails rolls back to its savepoint and fails alone; a batch whose commit
/// fails fails every write in it. No write is answered before its batch has committed, and the
/// `committed` callbacks run in the order the writes ran, batch after batch.
///
/// Under load a fifth of a send's time on the writer's thread was its commit (the WAL frames of
/// every page it touched, checksummed and written) and more went to BEGIN and COMMIT themselves;
/// the writes of one batch share them. A write that finds the writer idle runs alone, as before,
/// with no savepoint.
final class WriteBatches: Sendable {
    /// The most writes one transaction takes: a write waits for at most this many before its commit.
    static let maximum = 16

    private struct State {
        var waiting: [any BatchedWrite] = []
        var draining = false
    }

    private let state = Mutex(State())

    /// Queues `write`; true when no batch is being run and the caller must start `drain`ing.
    func enqueue(_ write: any BatchedWrite) -> Bool {
        state.withLock { state in
            state.waiting.append(write)
            defer { state.draining = true }
            return !state.draining
        }
    }

    /// The writes to run next, oldest first; nil, ending the drain, when none waits.
    func next() -> [any BatchedWrite]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.draining = false
                return nil
            }
            let batch = Array(state.waiting.prefix(Self.maximum))
            state.waiting.removeFirst(batch.count)
            return batch
        }
    }

    /// Runs `batch` in one transaction on `sql`, then answers each of its writes.
    static func run(_ batch: [any BatchedWrite], on sql: any SQLDatabase) async {
        let outcome: Result<Void, any Error>
        do {
            try await sql.transaction(
                begin: "BEGIN IMMEDIATE",
                { sql in for write in batch { try await write.perform(on: sql, inSavepoint: batch.count > 1) } },
                committed: { _ in }
            )
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for write in batch { write.finish(outcome) }
    }
}

/// One write of a batch, whatever its result type.
protocol BatchedWrite: AnyObject, Sendable {
    /// When it was asked for.
    var requested: ContinuousClock.Instant { get }
    /// Runs the write; throws only what leaves the transaction unable to go on — its own error
    /// when it runs alone, a savepoint's when it does not.
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
