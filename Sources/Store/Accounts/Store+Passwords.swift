package import Foundation
import Models
import SQLKit

/// The account a mailed link goes to, and the address it goes to.
package struct MailRecipient: Sendable {
    package var userID: UUID
    package var email: String
    package var displayName: String

    package init(userID: UUID, email: String, displayName: String) {
        self.userID = userID
        self.email = email
        self.displayName = displayName
    }
}

extension Store {
    /// Sets a new password hash, spends every outstanding reset link and revokes every other
    /// session of the user; returns the sessions revoked.
    package func changePassword(userID: UUID, newHash: String, keeping sessionID: UUID, now: Date) async throws -> [UUID] {
        try await write { transaction in
            try await transaction.setPasswordHash(newHash, userID: userID, now: now)
            try await transaction.sql.raw(
                "UPDATE password_reset_tokens SET used_at = \(bind: now) WHERE user_id = \(bind: userID) AND used_at IS NULL"
            ).run()
            return try await transaction.revokeSessions(of: userID, except: sessionID, reason: .passwordChanged, now: now)
        }
    }

    /// Stores a reset token for the account with this email, if there is one, and says where to mail it.
    package func createPasswordResetToken(
        email: String,
        tokenHash: String,
        expiresAt: Date,
        now: Date
    ) async throws -> MailRecipient? {
        try await write { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT id, email, display_name FROM users WHERE email_key = \(bind: Self.emailKey(email)) AND deleted_at IS NULL"
                ).first()
            else { return nil }
            let recipient = MailRecipient(
                userID: try row.decodeUUID(column: "id"),
                email: try row.decode(column: "email", as: String.self),
                displayName: try row.decode(column: "display_name", as: String.self)
            )
            try await transaction.sql.raw(
                """
                INSERT INTO password_reset_tokens (token_hash, user_id, created_at, expires_at)
                VALUES (\(bind: tokenHash), \(bind: recipient.userID), \(bind: now), \(bind: expiresAt))
                """
            ).run()
            return recipient
        }
    }

    /// Whether a reset token is unused and unexpired: checked before the costly hashing of the new password.
    package func isPasswordResetTokenLive(hash: String, now: Date) async throws -> Bool {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT 1 AS live FROM password_reset_tokens
                WHERE token_hash = \(bind: hash) AND used_at IS NULL AND expires_at > \(bind: now)
                """
            ).first() != nil
        }
    }

    /// Spends a live reset token: sets the password, spends the user's other reset tokens and revokes
    /// every session. Returns whose password it was and the sessions revoked, or nil when the token was not live.
    package func resetPassword(tokenHash: String, newHash: String, now: Date) async throws -> (userID: UUID, revoked: [UUID])? {
        try await write { transaction in
            guard
                let row = try await transaction.sql.raw(
                    """
                    UPDATE password_reset_tokens SET used_at = \(bind: now)
                    WHERE token_hash = \(bind: tokenHash) AND used_at IS NULL AND expires_at > \(bind: now)
                    RETURNING user_id
                    """
                ).first()
            else { return nil }
            let userID = try row.decodeUUID(column: "user_id")
            try await transaction.sql.raw(
                "UPDATE password_reset_tokens SET used_at = \(bind: now) WHERE user_id = \(bind: userID) AND used_at IS NULL"
            ).run()
            try await transaction.setPasswordHash(newHash, userID: userID, now: now)
            return (userID, try await transaction.revokeSessions(of: userID, reason: .passwordReset, now: now))
        }
    }
}

extension Transaction {
    fileprivate func setPasswordHash(_ hash: String, userID: UUID, now: Date) async throws {
        try await sql.raw(
            "UPDATE users SET password_hash = \(bind: hash), updated_at = \(bind: now) WHERE id = \(bind: userID)"
        ).run()
    }
}
