package import Foundation
import SQLKit

/// How many rows one pruning pass deleted.
package struct PruneReport: Sendable, Equatable {
    package var refreshTokens = 0
    package var resetTokens = 0
    package var sessions = 0
}

extension Store {
    /// Rows one pruning statement deletes at most: each batch is a transaction of its own, so
    /// pruning never holds SQLite's writer for long, however much has piled up.
    static let pruneBatch = 1000

    /// Deletes what can no longer be used: expired refresh and reset tokens, and sessions revoked
    /// a day ago, idle past their lifetime or older than their absolute one.
    package func pruneExpired(now: Date) async throws -> PruneReport {
        let revokedCutoff = now.addingTimeInterval(-24 * 3600)
        let idleCutoff = now.addingTimeInterval(-sessions.idleLifetime)
        let ageCutoff = now.addingTimeInterval(-sessions.absoluteLifetime)
        var report = PruneReport()
        report.refreshTokens = try await pruneInBatches(table: "refresh_tokens", key: "token_hash", where: "expires_at < \(bind: now)")
        report.resetTokens = try await pruneInBatches(table: "password_reset_tokens", key: "token_hash", where: "expires_at < \(bind: now)")
        report.resetTokens += try await pruneInBatches(table: "email_tokens", key: "token_hash", where: "expires_at < \(bind: now)")
        report.sessions = try await pruneInBatches(
            table: "sessions",
            key: "id",
            where: "revoked_at < \(bind: revokedCutoff) OR last_used_at < \(bind: idleCutoff) OR created_at < \(bind: ageCutoff)"
        )
        return report
    }

    /// Deletes the rows of `table` that match `condition`, `pruneBatch` at a time; returns how many.
    /// `key` names the columns that identify a row.
    func pruneInBatches(table: String, key: String, where condition: SQLQueryString) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write { transaction in
                try await transaction.sql.raw(
                    """
                    DELETE FROM \(unsafeRaw: table) WHERE (\(unsafeRaw: key)) IN (
                        SELECT \(unsafeRaw: key) FROM \(unsafeRaw: table) WHERE\(unsafeRaw: " ")
                    """ + condition + " LIMIT \(bind: Self.pruneBatch)) RETURNING 1 AS deleted"
                ).all().count
            }
            total += deleted
            if deleted < Self.pruneBatch { return total }
        }
    }
}
