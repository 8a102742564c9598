package import Foundation
import SQLKit

/// How many rows one pruning pass deleted.
package struct PruneReport: Sendable, Equatable {
    package var refreshTokens = 0
    package var resetTokens = 0
    package var sessions = 0
}

extension Store {
    /// Sessions unused for this long are over: their last refresh token has expired.
    package static let sessionIdleLifetime: TimeInterval = 30 * 24 * 3600

    /// Deletes what can no longer be used: expired refresh and reset tokens, and sessions revoked
    /// a day ago or idle past their lifetime.
    package func pruneExpired(now: Date) async throws -> PruneReport {
        try await write { transaction in
            var report = PruneReport()
            report.refreshTokens = try await transaction.sql.raw(
                "DELETE FROM refresh_tokens WHERE expires_at < \(bind: now) RETURNING session_id"
            ).all().count
            report.resetTokens = try await transaction.sql.raw(
                "DELETE FROM password_reset_tokens WHERE expires_at < \(bind: now) RETURNING user_id"
            ).all().count
            let revokedCutoff = now.addingTimeInterval(-24 * 3600)
            let idleCutoff = now.addingTimeInterval(-Self.sessionIdleLifetime)
            report.sessions = try await transaction.sql.raw(
                """
                DELETE FROM sessions WHERE revoked_at < \(bind: revokedCutoff) OR last_used_at < \(bind: idleCutoff)
                RETURNING id
                """
            ).all().count
            return report
        }
    }
}
