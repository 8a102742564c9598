package import Foundation
package import Models
import SQLKit

/// An account deletion under way: whose, and whether their messages go too.
package struct AccountDeletion: Sendable, Equatable {
    package var userID: UUID
    package var deleteMessages: Bool

    package init(userID: UUID, deleteMessages: Bool) {
        self.userID = userID
        self.deleteMessages = deleteMessages
    }
}

/// Deleting an account: a first transaction makes it unusable at once, then a job does the rest in
/// steps, each its own transaction and each safe to run again, so that a crash halfway only delays
/// the end. The `users` row stays, as the "Deleted user" their remaining messages show.
extension Store {
    /// The name a deleted account shows wherever its messages remain.
    package static let deletedDisplayName = "Deleted user"

    /// Starts deleting an account, in one transaction: the profile becomes "Deleted user" under a
    /// placeholder username (the real one and the address stay reserved until
    /// `accounts.deletedNameGrace` has passed), every session is revoked — their connections close
    /// with 4501 — and the job that does the rest is queued. Returns the sessions revoked; nil when
    /// there is no such account or it is being deleted already.
    package func beginAccountDeletion(userID: UUID, deleteMessages: Bool, now: Date) async throws -> [UUID]? {
        try await write { transaction in
            let audience = try await transaction.lockProfileAudience(of: userID)
            guard
                let row = try await transaction.sql.raw(
                    """
                    UPDATE users SET deleted_at = \(bind: now), former_username = username,
                                     username = \(bind: Self.placeholderUsername(userID)),
                                     display_name = \(bind: Self.deletedDisplayName), display_name_key = \(bind: Self.deletedDisplayName.lowercased()),
                                     bio = '', avatar_upload_id = NULL, settings = '{}', last_seen_at = NULL, updated_at = \(bind: now)
                    WHERE id = \(bind: userID) AND deleted_at IS NULL
                    RETURNING \(unsafeRaw: UserRow.columns)
                    """
                ).first()
            else { return nil }
            try await transaction.profileChanged(try UserRow(row: row).user(transaction.media), to: audience, deleted: true, at: now)
            let revoked = try await transaction.revokeSessions(of: userID, reason: .accountDeleted, now: now)
            try await transaction.sql.raw(
                """
                INSERT INTO account_deletions (user_id, delete_messages, created_at, next_attempt_at)
                VALUES (\(bind: userID), \(bind: deleteMessages ? 1 : 0), \(bind: now), \(bind: now))
                """
            ).run()
            return revoked
        }
    }

    /// A username no one can register (`-` is not allowed in them), unique to the account.
    static func placeholderUsername(_ userID: UUID) -> String {
        "deleted-" + userID.lowercased.replacingOccurrences(of: "-", with: "").prefix(12)
    }

    /// Claims the deletion due longest, for `leaseEnd - now`: another node takes it over only when
    /// the lease runs out (the claiming node stopped halfway).
    package func claimAccountDeletion(now: Date, leaseEnd: Date) async throws -> AccountDeletion? {
        try await claim(.accountDeletions, limit: 1, now: now, leaseEnd: leaseEnd, returning: "user_id, delete_messages").first.map {
            AccountDeletion(
                userID: try $0.decodeUUID(column: "user_id"),
                deleteMessages: try $0.decode(column: "delete_messages", as: Int.self) != 0
            )
        }
    }

    /// Does the next step of a deletion; false once it is complete. The steps, in order:
    ///
    /// 1. with `deleteMessages`, up to `batch` of their messages become tombstones (`message.deleted`);
    /// 2. they leave one group: a group they own passes to its longest-standing admin, else its
    ///    longest-standing member (`member.updated`), else it is deleted; then `member.removed`;
    /// 3. the rest goes at once: whoever had them as a contact gets `contact.removed`; their contacts,
    ///    blocks both ways, push subscriptions, notifications, links, data exports and settings in
    ///    direct conversations go, with their uploads that no conversation shows; the job is done.
    ///
    /// Direct conversations keep them as a member, so the other person keeps the history under
    /// "Deleted user"; nothing new can be sent there.
    package func continueAccountDeletion(_ deletion: AccountDeletion, batch: Int = 200, now: Date) async throws -> Bool {
        let userID = deletion.userID
        if deletion.deleteMessages {
            let done = try await write { transaction in
                let rows = try await transaction.sql.raw(
                    """
                    SELECT \(unsafeRaw: Message.columns()) FROM messages
                    WHERE sender_id = \(bind: userID) AND deleted_at IS NULL
                    LIMIT \(bind: batch)
                    """
                ).all()
                for row in rows { try await transaction.tombstone(try Message(row: row), deletedBy: userID, now: now) }
                return rows.count
            }
            if done > 0 { return true }
        }
        let group = try await read { sql in
            try await sql.raw(
                """
                SELECT m.conversation_id FROM members m JOIN conversations c ON c.id = m.conversation_id
                WHERE m.user_id = \(bind: userID) AND c.kind = 'group' LIMIT 1
                """
            ).first()?.decodeUUID(column: "conversation_id")
        }
        if let group {
            try await write { transaction in try await transaction.leaveOnDeletion(userID, group: group, now: now) }
            return true
        }
        try await write { transaction in try await transaction.removeTies(of: userID, now: now) }
        return false
    }

    /// Frees the usernames and addresses of accounts deleted longer than `accounts.deletedNameGrace`
    /// ago: anyone may register them now. Returns how many accounts.
    package func releaseDeletedNames(now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-accounts.deletedNameGrace)
        return try await write { transaction in
            try await transaction.sql.raw(
                """
                UPDATE users SET former_username = NULL,
                                 email = lower(CAST(id AS TEXT)) || '@deleted.invalid', email_key = lower(CAST(id AS TEXT)) || '@deleted.invalid'
                WHERE deleted_at < \(bind: cutoff) AND email_key NOT LIKE '%@deleted.invalid'
                RETURNING id
                """
            ).all().count
        }
    }

    /// Deletions not finished yet, for tests and metrics.
    package func pendingAccountDeletions() async throws -> Int {
        try await read { sql in
            try await sql.raw("SELECT COUNT(*) AS pending FROM account_deletions").first()?.decode(column: "pending", as: Int.self) ?? 0
        }
    }
}

extension Transaction {
    /// Leaves a group for good, handing it on or deleting it first when the user owns it.
    fileprivate func leaveOnDeletion(_ userID: UUID, group: UUID, now: Date) async throws {
        try await lockConversation(group)
        guard let membership = try await sql.membership(of: userID, in: group) else { return }
        if membership.role == .owner {
            let successor = try await sql.raw(
                """
                SELECT user_id FROM members WHERE conversation_id = \(bind: group) AND user_id <> \(bind: userID)
                ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, joined_at, user_id LIMIT 1
                """
            ).first()?.decodeUUID(column: "user_id")
            guard let successor else {
                try await deleteConversation(group, by: userID, now: now)
                return
            }
            try await setRole(.owner, of: successor, in: group, by: userID, now: now)
        }
        try await removeMember(userID, from: group, by: userID, reason: .left, now: now)
    }

    /// The last step: every tie to other people and every trace in the service, then the job itself.
    fileprivate func removeTies(of userID: UUID, now: Date) async throws {
        // A message to them already under way in a direct conversation (it holds the conversation's
        // row) finishes first, so that no notification of it outlives this step; later ones see the
        // account deleted. (Conversation rows first, then streams: the order a send takes them in.)
        if kind == .postgres {
            try await sql.raw(
                """
                SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id
                WHERE m.user_id = \(bind: userID) AND c.kind = 'direct' ORDER BY c.id FOR UPDATE OF c
                """
            ).run()
        }
        let owners = try await sql.raw("DELETE FROM contacts WHERE contact_id = \(bind: userID) RETURNING owner_id").all()
            .map { try $0.decodeUUID(column: "owner_id") }
        try await lockStreams(owners.map(StreamID.user))
        for owner in owners {
            try await append(to: .user(owner), .contactRemoved(ContactRemovedData(userID: userID)), at: now)
        }
        for statement: SQLQueryString in [
            "DELETE FROM contacts WHERE owner_id = \(bind: userID)",
            "DELETE FROM blocks WHERE blocker_id = \(bind: userID) OR blocked_id = \(bind: userID)",
            "DELETE FROM push_subscriptions WHERE user_id = \(bind: userID)",
            "DELETE FROM notifications WHERE user_id = \(bind: userID)",
            "DELETE FROM email_tokens WHERE user_id = \(bind: userID)",
            "DELETE FROM password_reset_tokens WHERE user_id = \(bind: userID)",
            "DELETE FROM presence WHERE user_id = \(bind: userID)",
            "DELETE FROM exports WHERE user_id = \(bind: userID)",
            "UPDATE members SET notify_level = NULL, muted_until = NULL, theme = NULL WHERE user_id = \(bind: userID)",
            // Uploads no conversation shows: unused ones (the avatar is cleared already); group icons stay.
            """
            DELETE FROM uploads WHERE owner_id = \(bind: userID) AND message_id IS NULL
              AND id NOT IN (SELECT icon_upload_id FROM conversations WHERE icon_upload_id IS NOT NULL)
            """,
            "DELETE FROM account_deletions WHERE user_id = \(bind: userID)",
        ] {
            try await sql.raw(statement).run()
        }
    }
}
