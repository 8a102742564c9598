package import Foundation
package import Models
import SQLKit

extension Store {
    /// Users whose username or display name contains `query` (any case), those that start with it first,
    /// then by username. Emails are never searched nor shown.
    package func searchUsers(_ query: String, viewer: UUID, limit: Int, cursor: String?) async throws -> Page<PublicUser> {
        let after = try Cursor(decoding: cursor, count: 2)
        let needle = Self.likeEscaped(query.lowercased())
        let afterRank = try after?.int64(0) ?? -1
        let afterUsername = after?.parts[1] ?? ""
        let rows = try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM (
                    SELECT \(PublicUser.columns(seenBy: viewer)),
                           CASE WHEN username LIKE \(bind: needle + "%") ESCAPE '\\' OR display_name_key LIKE \(bind: needle + "%") ESCAPE '\\'
                                THEN 0 ELSE 1 END AS match_rank
                    FROM users u
                    WHERE u.deleted_at IS NULL
                      AND (username LIKE \(bind: "%" + needle + "%") ESCAPE '\\' OR display_name_key LIKE \(bind: "%" + needle + "%") ESCAPE '\\')
                ) ranked
                WHERE match_rank > \(bind: afterRank) OR (match_rank = \(bind: afterRank) AND username > \(bind: afterUsername))
                ORDER BY match_rank, username
                LIMIT \(bind: limit + 1)
                """
            ).all()
        }
        let users = try rows.prefix(limit).map { try PublicUser(row: $0, links: media) }
        let next = try rows.count > limit ? Cursor(String(rows[limit - 1].decode(column: "match_rank", as: Int64.self)), users[limit - 1].username).encoded : nil
        return Page(items: users, nextCursor: next)
    }

    /// Anyone's public profile, as `viewer` may see it.
    package func publicUser(id: UUID, viewer: UUID) async throws -> PublicUser? {
        let links = media
        return try await database.read { sql in
            try await sql.raw("SELECT \(PublicUser.columns(seenBy: viewer)) FROM users u WHERE u.id = \(bind: id)").first()
                .map { try PublicUser(row: $0, links: links) }
        }
    }

    // MARK: - Contacts

    /// The owner's contacts, by display name.
    package func contacts(of ownerID: UUID) async throws -> [Contact] {
        let links = media
        return try await database.read { sql in
            try await sql.raw(
                """
                SELECT c.nickname, c.created_at, \(PublicUser.columns(prefix: "u_", seenBy: ownerID))
                FROM contacts c JOIN users u ON u.id = c.contact_id
                WHERE c.owner_id = \(bind: ownerID)
                ORDER BY u.display_name_key, u.username
                """
            ).all().map { try Contact(row: $0, links: links) }
        }
    }

    /// Adds a contact, or changes its nickname; appends `contact.added` or `contact.updated`.
    package func putContact(owner ownerID: UUID, contact contactID: UUID, nickname: String?, now: Date) async throws -> Contact {
        guard ownerID != contactID else { throw Problem.invalidField("userId", .invalidFormat, "You cannot add yourself.") }
        return try await write { transaction in
            guard let user = try await transaction.publicUser(contactID) else { throw Problem.notFound("No such user.") }
            let existing = try await transaction.sql.raw(
                "SELECT nickname, created_at FROM contacts WHERE owner_id = \(bind: ownerID) AND contact_id = \(bind: contactID)"
            ).first()
            let contact: Contact
            if let existing {
                contact = Contact(user: user, nickname: nickname, addedAt: try existing.decode(column: "created_at", as: Date.self))
                guard try existing.decode(column: "nickname", as: String?.self) != nickname else { return contact }
                try await transaction.sql.raw(
                    "UPDATE contacts SET nickname = \(bind: nickname) WHERE owner_id = \(bind: ownerID) AND contact_id = \(bind: contactID)"
                ).run()
                try await transaction.append(to: .user(ownerID), .contactUpdated(contact), at: now)
            } else {
                contact = Contact(user: user, nickname: nickname, addedAt: now)
                try await transaction.sql.raw(
                    """
                    INSERT INTO contacts (owner_id, contact_id, nickname, created_at)
                    VALUES (\(bind: ownerID), \(bind: contactID), \(bind: nickname), \(bind: now))
                    """
                ).run()
                try await transaction.append(to: .user(ownerID), .contactAdded(contact), at: now)
            }
            return contact
        }
    }

    /// Removes a contact; false when it was not one. Appends `contact.removed`.
    package func removeContact(owner ownerID: UUID, contact contactID: UUID, now: Date) async throws -> Bool {
        try await write { transaction in
            let removed = try await transaction.sql.raw(
                "DELETE FROM contacts WHERE owner_id = \(bind: ownerID) AND contact_id = \(bind: contactID) RETURNING contact_id"
            ).first() != nil
            if removed {
                try await transaction.append(to: .user(ownerID), .contactRemoved(ContactRemovedData(userID: contactID)), at: now)
            }
            return removed
        }
    }

    // MARK: - Blocks

    /// Everyone the owner has blocked, newest first.
    package func blocks(of ownerID: UUID) async throws -> [Block] {
        let links = media
        return try await database.read { sql in
            try await sql.raw(
                """
                SELECT b.created_at, \(PublicUser.columns(prefix: "u_", seenBy: ownerID))
                FROM blocks b JOIN users u ON u.id = b.blocked_id
                WHERE b.blocker_id = \(bind: ownerID)
                ORDER BY b.created_at DESC, u.username
                """
            ).all().map { row in
                Block(user: try PublicUser(row: row, prefix: "u_", links: links), blockedAt: try row.decode(column: "created_at", as: Date.self))
            }
        }
    }

    /// Blocks a user (again: no change). Logged nowhere: the blocked user must not learn of it.
    package func block(owner ownerID: UUID, target targetID: UUID, now: Date) async throws -> Block {
        guard ownerID != targetID else { throw Problem.invalidField("userId", .invalidFormat, "You cannot block yourself.") }
        return try await write { transaction in
            guard let user = try await transaction.publicUser(targetID) else { throw Problem.notFound("No such user.") }
            try await transaction.sql.raw(
                """
                INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (\(bind: ownerID), \(bind: targetID), \(bind: now))
                ON CONFLICT (blocker_id, blocked_id) DO NOTHING
                """
            ).run()
            let blockedAt = try await transaction.sql.raw(
                "SELECT created_at FROM blocks WHERE blocker_id = \(bind: ownerID) AND blocked_id = \(bind: targetID)"
            ).first()?.decode(column: "created_at", as: Date.self)
            return Block(user: user, blockedAt: blockedAt ?? now)
        }
    }

    /// Lifts a block; false when there was none.
    package func unblock(owner ownerID: UUID, target targetID: UUID) async throws -> Bool {
        try await write { transaction in
            try await transaction.sql.raw(
                "DELETE FROM blocks WHERE blocker_id = \(bind: ownerID) AND blocked_id = \(bind: targetID) RETURNING blocked_id"
            ).first() != nil
        }
    }

    /// `text` with LIKE's wildcards and escape character escaped by `\`.
    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

extension Transaction {
    /// A user's public profile as events carry it: the same for everyone, so without `lastSeenAt`.
    func publicUser(_ id: UUID) async throws -> PublicUser? {
        try await sql.raw("SELECT \(PublicUser.columns(seenBy: nil)) FROM users u WHERE u.id = \(bind: id)").first()
            .map { try PublicUser(row: $0, links: media) }
    }

    /// Whether `blocker` has blocked `blocked`.
    func hasBlocked(_ blocker: UUID, _ blocked: UUID) async throws -> Bool {
        try await sql.raw("SELECT 1 AS blocked FROM blocks WHERE blocker_id = \(bind: blocker) AND blocked_id = \(bind: blocked)")
            .first() != nil
    }
}

extension PublicUser {
    /// The columns of a public profile from `users u`, renamed with `prefix`, as `viewer` may see it.
    ///
    /// When a user was last online shows only to the user, and to whom they share presence with —
    /// someone in a conversation with them, or whom they have as a contact — unless they blocked the
    /// viewer or hide it. Without a viewer (in events, which everyone shares) it never shows.
    static func columns(prefix: String = "", seenBy viewer: UUID?) -> SQLQueryString {
        let plain: SQLQueryString = "\(unsafeRaw: selectList(["id", "username", "display_name", "bio", "avatar_upload_id", "created_at", "deleted_at"], table: "u", prefix: prefix))"
        guard let viewer else { return plain + ", NULL AS \(unsafeRaw: prefix)last_seen_at" }
        return plain + """
            , CASE WHEN u.id = \(bind: viewer) THEN u.last_seen_at
                   WHEN u.last_seen_visible <> 0
                    AND NOT EXISTS (SELECT 1 FROM blocks lb WHERE lb.blocker_id = u.id AND lb.blocked_id = \(bind: viewer))
                    AND (EXISTS (SELECT 1 FROM contacts lc WHERE lc.owner_id = u.id AND lc.contact_id = \(bind: viewer))
                         OR EXISTS (SELECT 1 FROM members lm JOIN members lv ON lv.conversation_id = lm.conversation_id
                                    WHERE lm.user_id = u.id AND lv.user_id = \(bind: viewer)))
                   THEN u.last_seen_at END AS \(unsafeRaw: prefix)last_seen_at
            """
    }

    /// A profile from the columns of `columns(prefix:seenBy:)`, its avatar's link signed by `links`.
    init(row: any SQLRow, prefix: String = "", links: MediaLinks) throws {
        self.init(
            id: try row.decodeUUID(column: prefix + "id"),
            username: try row.decode(column: prefix + "username", as: String.self),
            displayName: try row.decode(column: prefix + "display_name", as: String.self),
            bio: try row.decode(column: prefix + "bio", as: String.self).nonEmpty,
            avatarURL: try row.decodeOptionalUUID(column: prefix + "avatar_upload_id").flatMap { links.url($0, .avatar, for: .anyone) },
            createdAt: try row.decode(column: prefix + "created_at", as: Date.self),
            lastSeenAt: try row.decode(column: prefix + "last_seen_at", as: Date?.self),
            deleted: try row.decode(column: prefix + "deleted_at", as: Date?.self) != nil
        )
    }
}

extension Contact {
    init(row: any SQLRow, links: MediaLinks) throws {
        self.init(
            user: try PublicUser(row: row, prefix: "u_", links: links),
            nickname: try row.decode(column: "nickname", as: String?.self),
            addedAt: try row.decode(column: "created_at", as: Date.self)
        )
    }
}
