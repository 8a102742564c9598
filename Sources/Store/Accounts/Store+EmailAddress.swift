package import Foundation
package import Models
import SQLKit

/// What using a mailed address link does: confirm the account's address, or move the account to
/// the address the link was mailed to.
enum EmailTokenPurpose: String {
    case verify
    case change
}

/// A requested change of address: the confirmation goes to the new one, a notice to the old one.
package struct EmailChange: Sendable {
    package var confirmation: MailRecipient
    package var notice: MailRecipient
}

extension Store {
    /// Stores a verification token for the user's current address, unless it is verified already;
    /// says where to mail the link.
    package func createEmailVerificationToken(userID: UUID, tokenHash: String, expiresAt: Date, now: Date) async throws -> MailRecipient? {
        try await write { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT email, display_name FROM users WHERE id = \(bind: userID) AND email_verified_at IS NULL AND deleted_at IS NULL"
                ).first()
            else { return nil }
            let recipient = MailRecipient(
                userID: userID,
                email: try row.decode(column: "email", as: String.self),
                displayName: try row.decode(column: "display_name", as: String.self)
            )
            try await transaction.sql.insertEmailToken(tokenHash, for: recipient, purpose: .verify, expiresAt: expiresAt, now: now)
            return recipient
        }
    }

    /// Stores a token that moves the user to `newEmail` when used; throws `email_taken` when another
    /// account has that address, and a field error when it is the user's own already.
    package func createEmailChangeToken(userID: UUID, newEmail: String, tokenHash: String, expiresAt: Date, now: Date) async throws -> EmailChange? {
        try await write { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT email, email_key, display_name FROM users WHERE id = \(bind: userID)"
                ).first()
            else { return nil }
            let oldEmail = try row.decode(column: "email", as: String.self)
            let displayName = try row.decode(column: "display_name", as: String.self)
            if try row.decode(column: "email_key", as: String.self) == Self.emailKey(newEmail) {
                throw Problem.invalidField("newEmail", .notAllowed, "That is your address already.")
            }
            try await transaction.sql.refuseIfTaken(email: newEmail, by: userID)
            let change = EmailChange(
                confirmation: MailRecipient(userID: userID, email: newEmail, displayName: displayName),
                notice: MailRecipient(userID: userID, email: oldEmail, displayName: displayName)
            )
            try await transaction.sql.insertEmailToken(tokenHash, for: change.confirmation, purpose: .change, expiresAt: expiresAt, now: now)
            return change
        }
    }

    /// Spends an address token and does what it is for, then appends `user.updated`:
    ///
    /// - a verification marks the address verified, if it is still the user's;
    /// - a change moves the account to the address the link went to (verified, since the link
    ///   proved it), checking again that no one else has it, and spends the user's reset links.
    ///
    /// Every other address link of the user is spent too. Nil for a used, expired or unknown token,
    /// or a verification of an address the user no longer has; `email_taken` when the new address
    /// was taken since the change was asked for.
    package func useEmailToken(tokenHash: String, now: Date) async throws -> User? {
        do {
            return try await write { transaction in try await transaction.useEmailToken(tokenHash, now: now) }
        } catch where database.isUniqueViolation(error) {
            throw Problem.emailTaken  // lost a race with a registration or change to the same address
        }
    }
}

extension Transaction {
    fileprivate func useEmailToken(_ tokenHash: String, now: Date) async throws -> User? {
        guard
            let token = try await sql.raw(
                """
                UPDATE email_tokens SET used_at = \(bind: now)
                WHERE token_hash = \(bind: tokenHash) AND used_at IS NULL AND expires_at > \(bind: now)
                RETURNING user_id, email, purpose
                """
            ).first()
        else { return nil }
        let userID = try token.decodeUUID(column: "user_id")
        let email = try token.decode(column: "email", as: String.self)
        let purpose = EmailTokenPurpose(rawValue: try token.decode(column: "purpose", as: String.self))
        try await sql.raw("UPDATE email_tokens SET used_at = \(bind: now) WHERE user_id = \(bind: userID) AND used_at IS NULL").run()
        let update: SQLQueryString
        switch purpose {
        case .verify:
            update = """
                UPDATE users SET email_verified_at = COALESCE(email_verified_at, \(bind: now)), updated_at = \(bind: now)
                WHERE id = \(bind: userID) AND email_key = \(bind: Store.emailKey(email))
                """
        case .change:
            try await sql.refuseIfTaken(email: email, by: userID)
            try await sql.raw("UPDATE password_reset_tokens SET used_at = \(bind: now) WHERE user_id = \(bind: userID) AND used_at IS NULL").run()
            update = """
                UPDATE users SET email = \(bind: email), email_key = \(bind: Store.emailKey(email)),
                                 email_verified_at = \(bind: now), updated_at = \(bind: now)
                WHERE id = \(bind: userID)
                """
        case nil:
            return nil
        }
        guard let row = try await sql.raw(update + " RETURNING \(unsafeRaw: UserRow.columns)").first() else { return nil }
        let user = try UserRow(row: row).user(media)
        try await append(to: .user(userID), .userUpdated(user), at: now)
        return user
    }
}

extension SQLDatabase {
    fileprivate func insertEmailToken(
        _ tokenHash: String,
        for recipient: MailRecipient,
        purpose: EmailTokenPurpose,
        expiresAt: Date,
        now: Date
    ) async throws {
        try await raw(
            """
            INSERT INTO email_tokens (token_hash, user_id, email, purpose, created_at, expires_at)
            VALUES (\(bind: tokenHash), \(bind: recipient.userID), \(bind: recipient.email), \(bind: purpose.rawValue), \(bind: now), \(bind: expiresAt))
            """
        ).run()
    }

    /// Throws `email_taken` when an account other than `userID` has `email` (in any case).
    fileprivate func refuseIfTaken(email: String, by userID: UUID) async throws {
        let taken = try await raw(
            "SELECT 1 AS taken FROM users WHERE email_key = \(bind: Store.emailKey(email)) AND id <> \(bind: userID)"
        ).first()
        if taken != nil { throw Problem.emailTaken }
    }
}
