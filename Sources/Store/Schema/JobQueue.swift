package import Foundation
import SQLKit

/// A table of work that the nodes take turns on. Each row is due at its `next_attempt_at` and counts
/// its `attempts`; a node claims due rows by moving `next_attempt_at` to the end of its lease, so
/// another node takes a row over only when the node that claimed it stopped before finishing.
package enum JobQueue: Sendable, CaseIterable {
    /// Web Push messages waiting to go out (`push_outbox`).
    case pushes
    /// Data exports waiting to be built (`exports` not yet ready).
    case exports
    /// Account deletions under way (`account_deletions`, keyed by the user).
    case accountDeletions

    var table: String {
        switch self {
        case .pushes: "push_outbox"
        case .exports: "exports"
        case .accountDeletions: "account_deletions"
        }
    }

    var key: String { self == .accountDeletions ? "user_id" : "id" }

    /// The rows that are still work.
    var pending: String { self == .exports ? "ready_at IS NULL AND " : "" }
}

extension Store {
    /// Claims up to `limit` rows of `queue` due at `now`, longest waiting first, until `leaseEnd`;
    /// each counts one more attempt. Returns the `returning` columns of the rows claimed.
    func claim(_ queue: JobQueue, limit: Int, now: Date, leaseEnd: Date, returning: String) async throws -> [any SQLRow] {
        let due: SQLQueryString = "\(unsafeRaw: queue.pending)next_attempt_at <= \(bind: now)"
        // Most polls find nothing: a read answers them without queueing behind the writes.
        let any = try await read { try await $0.raw("SELECT 1 AS due FROM \(unsafeRaw: queue.table) WHERE " + due + " LIMIT 1").first() }
        guard any != nil else { return [] }
        // PostgreSQL: two nodes claiming at once skip each other's rows instead of waiting for them.
        let skipLocked: SQLQueryString = database.kind == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await write { transaction in
            try await transaction.sql.raw(
                "UPDATE \(unsafeRaw: queue.table) SET attempts = attempts + 1, next_attempt_at = \(bind: leaseEnd) WHERE \(unsafeRaw: queue.key) IN ("
                    + "SELECT \(unsafeRaw: queue.key) FROM \(unsafeRaw: queue.table) WHERE " + due
                    + " ORDER BY next_attempt_at LIMIT \(bind: limit)" + skipLocked + ") RETURNING \(unsafeRaw: returning)"
            ).all()
        }
    }

    /// How many rows of `queue` are still work, due or not.
    package func waitingJobs(_ queue: JobQueue) async throws -> Int {
        let row = try await read {
            try await $0.raw("SELECT count(*) AS waiting FROM \(unsafeRaw: queue.table) WHERE \(unsafeRaw: queue.pending)TRUE").first()
        }
        return try row?.decode(column: "waiting", as: Int.self) ?? 0
    }

    /// Moves the next attempt of a claimed row of `queue` to `date`: later to keep the lease or to
    /// retry after a pause, now to hand it back.
    package func reschedule(_ queue: JobQueue, _ id: UUID, at date: Date) async throws {
        try await write { transaction in
            try await transaction.sql.raw(
                "UPDATE \(unsafeRaw: queue.table) SET next_attempt_at = \(bind: date) WHERE \(unsafeRaw: queue.key) = \(bind: id)"
            ).run()
        }
    }
}
