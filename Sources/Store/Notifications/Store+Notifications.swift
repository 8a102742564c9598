package import Foundation
package import Models
import SQLKit

extension Store {
    /// A page of the user's inbox, newest first, with their unread count.
    package func notifications(of userID: UUID, unreadOnly: Bool, limit: Int, cursor: String?) async throws -> NotificationPage {
        let after = try Cursor(decoding: cursor, count: 2)
        let keyset = try after.map { cursor throws(Problem) in (try cursor.int64(0), try cursor.uuid(1)) }
        let links = media
        return try await read { sql in
            var query: SQLQueryString = """
                SELECT n.id, n.kind, n.conversation_id, n.message_id, n.excerpt, n.created_at, n.created_us, n.read_at,
                       \(PublicUser.columns(prefix: "a_", seenBy: userID))
                FROM notifications n JOIN users u ON u.id = n.actor_id
                WHERE n.user_id = \(bind: userID)
                """
            if unreadOnly { query = query + " AND n.read_at IS NULL" }
            if let keyset {
                query = query + " AND (n.created_us < \(bind: keyset.0) OR (n.created_us = \(bind: keyset.0) AND n.id < \(bind: keyset.1)))"
            }
            query = query + " ORDER BY n.created_us DESC, n.id DESC LIMIT \(bind: limit + 1)"
            let rows = try await sql.raw(query).all()
            let items = try rows.prefix(limit).map { try InboxNotification(row: $0, links: links) }
            let next = rows.count > limit ? try rows[limit - 1].decode(column: "created_us", as: Int64.self) : nil
            return NotificationPage(
                items: items,
                nextCursor: next.map { Cursor(String($0), items[limit - 1].id.uuidString).encoded },
                unreadCount: try await sql.unreadNotifications(of: userID)
            )
        }
    }

    /// Marks the user's notifications read — those of `ids` (others' ids are ignored), or every one
    /// made up to `before` (its second included) — appending `notifications.read` when any changed; returns the unread
    /// count after.
    package func readNotifications(of userID: UUID, ids: [UUID]?, before: Date?, now: Date) async throws -> Int {
        try await write { transaction in
            if let ids, !ids.isEmpty {
                try await transaction.markNotificationsRead(of: userID, where: "id IN (\(binds: ids))", now: now)
            }
            if let before {
                // Up to and including `before`'s second: `createdAt` shows whole seconds, so the
                // newest notification's own `createdAt` marks it read too.
                let end = Date(timeIntervalSince1970: before.timeIntervalSince1970.rounded(.down) + 1)
                try await transaction.markNotificationsRead(of: userID, where: "created_us < \(bind: end.microseconds)", now: now)
            }
            return try await transaction.sql.unreadNotifications(of: userID)
        }
    }
}

extension Transaction {
    /// Whom `body` names among the conversation's members (never its writer), in order of first
    /// mention, and whether `@all` counts: only from a group's admins and owner — from anyone else
    /// it is plain text.
    func mentions(in body: String?, by writer: Membership) async throws -> (ids: [UUID], all: Bool) {
        let names = body.map(Mentions.names(in:)) ?? []
        let all = names.contains(Mentions.everyone) && writer.kind == .group && writer.role >= .admin
        let usernames = names.filter { $0 != Mentions.everyone }
        guard !usernames.isEmpty else { return ([], all) }
        let rows = try await sql.raw(
            """
            SELECT u.id, u.username FROM users u JOIN members m ON m.user_id = u.id
            WHERE m.conversation_id = \(bind: writer.conversationID) AND u.username IN (\(binds: usernames)) AND u.id <> \(bind: writer.userID)
            """
        ).all()
        var byName: [String: UUID] = [:]
        for row in rows { byName[try row.decode(column: "username", as: String.self)] = try row.decodeUUID(column: "id") }
        return (usernames.compactMap { byName[$0] }, all)
    }

    /// Stores a message's mentions in place of those it had; returns the users it names now and did not before.
    func recordMentions(_ mentions: (ids: [UUID], all: Bool), of messageID: UUID) async throws -> [UUID] {
        let before = Set(
            try await sql.raw("SELECT user_id FROM message_mentions WHERE message_id = \(bind: messageID)").all()
                .map { try $0.decodeUUID(column: "user_id") }
        )
        try await sql.raw("DELETE FROM message_mentions WHERE message_id = \(bind: messageID)").run()
        try await insertMentions(mentions.ids, of: messageID)
        try await sql.raw("UPDATE messages SET mentions_all = \(bind: mentions.all ? 1 : 0) WHERE id = \(bind: messageID)").run()
        return mentions.ids.filter { !before.contains($0) }
    }

    /// Stores the users a message names, in order, for a message that has none stored yet.
    func insertMentions(_ userIDs: [UUID], of messageID: UUID) async throws {
        for (position, userID) in userIDs.enumerated() {
            try await sql.raw(
                "INSERT INTO message_mentions (message_id, user_id, position) VALUES (\(bind: messageID), \(bind: userID), \(bind: position))"
            ).run()
        }
    }

    /// Every member of a conversation but `userID`.
    func otherMembers(of conversationID: UUID, than userID: UUID) async throws -> [UUID] {
        try await sql.raw("SELECT user_id FROM members WHERE conversation_id = \(bind: conversationID) AND user_id <> \(bind: userID) ORDER BY joined_at")
            .all().map { try $0.decodeUUID(column: "user_id") }
    }

    /// Notifies each recipient once per message — the first reason listed wins — unless they are
    /// the actor, are no longer a member, or have blocked the actor; appends `notification.created`
    /// to each one's stream, in this transaction, so every device hears of it once, and queues its
    /// pushes. What it needs of the recipients is read for all of them at once: a group's `@all`
    /// costs a few statements per member, not a few queries more.
    func notify(
        _ recipients: [(user: UUID, kind: NotificationKind)],
        in conversationID: UUID,
        message messageID: UUID?,
        actor actorID: UUID,
        excerpt: String?,
        now: Date
    ) async throws {
        var seen: Set<UUID> = []
        let candidates = recipients.filter { $0.user != actorID && seen.insert($0.user).inserted }
        guard !candidates.isEmpty,
            let conversation = try await sql.raw("SELECT kind, title FROM conversations WHERE id = \(bind: conversationID)").first()
        else { return }
        let kind = try conversation.decode(column: "kind", as: ConversationKind.self)
        let settings = try await recipientSettings(candidates.map(\.user), in: conversationID, kind: kind, actor: actorID)
        guard !settings.isEmpty,
            let actorRow = try await sql.raw("SELECT \(PublicUser.columns(seenBy: nil)) FROM users u WHERE u.id = \(bind: actorID)").first()
        else { return }
        let actor = try PublicUser(row: actorRow, links: media)
        let excerpt = excerpt.map(Self.excerpt(of:))
        let title = kind == .group ? try conversation.decode(column: "title", as: String.self) : nil
        for candidate in candidates {
            guard let recipient = settings[candidate.user], recipient.admits(candidate.kind, now: now) else { continue }
            let notification = InboxNotification(
                id: UUID(),
                kind: candidate.kind,
                conversationID: conversationID,
                messageID: messageID,
                actor: actor,
                excerpt: excerpt,
                createdAt: now,
                readAt: nil
            )
            let inserted = try await sql.raw(
                """
                INSERT INTO notifications (id, user_id, kind, conversation_id, message_id, actor_id, excerpt, created_at, created_us)
                VALUES (\(bind: notification.id), \(bind: candidate.user), \(bind: candidate.kind.rawValue), \(bind: conversationID),
                        \(bind: messageID), \(bind: actorID), \(bind: excerpt), \(bind: now), \(bind: now.microseconds))
                ON CONFLICT DO NOTHING RETURNING id
                """
            ).first()
            guard inserted != nil else { continue }
            try await append(
                to: .user(candidate.user),
                .notificationCreated(NotificationCreatedData(notification: notification, unreadCount: recipient.unread + 1)),
                at: now
            )
            if recipient.pushes(candidate.kind, now: now) {
                try await queuePushes(of: notification, to: recipient.subscriptions, conversationTitle: title, now: now)
            }
        }
    }

    /// The eligible recipients among `users` — members of the conversation, not deleted, who have
    /// not blocked the actor — with their level there, mute, quiet hours, unread count and push subscriptions.
    func recipientSettings(_ users: [UUID], in conversationID: UUID, kind: ConversationKind, actor actorID: UUID) async throws -> [UUID: RecipientSettings] {
        let rows = try await sql.raw(
            """
            SELECT m.user_id, m.notify_level, m.muted_until, u.settings,
                   (SELECT COUNT(*) FROM notifications n WHERE n.user_id = m.user_id AND n.read_at IS NULL) AS unread
            FROM members m JOIN users u ON u.id = m.user_id
            WHERE m.conversation_id = \(bind: conversationID) AND m.user_id IN (\(binds: users)) AND u.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = m.user_id AND b.blocked_id = \(bind: actorID))
            """
        ).all()
        guard !rows.isEmpty else { return [:] }
        var subscriptions: [UUID: [UUID]] = [:]
        for row in try await sql.raw("SELECT id, user_id FROM push_subscriptions WHERE user_id IN (\(binds: users))").all() {
            subscriptions[try row.decodeUUID(column: "user_id"), default: []].append(try row.decodeUUID(column: "id"))
        }
        var settings: [UUID: RecipientSettings] = [:]
        for row in rows {
            let userID = try row.decodeUUID(column: "user_id")
            let defaults = StoredSettings(json: try row.decode(column: "settings", as: String.self)).notifications ?? NotificationPreferences()
            let own = try row.decode(column: "notify_level", as: String?.self).flatMap(NotificationLevel.init(rawValue:))
            settings[userID] = RecipientSettings(
                level: own ?? (kind == .direct ? defaults.direct : defaults.groups),
                mutedUntil: try row.decode(column: "muted_until", as: Date?.self),
                quietHours: defaults.quietHours,
                unread: try row.decode(column: "unread", as: Int.self),
                subscriptions: subscriptions[userID] ?? []
            )
        }
        return settings
    }

    /// Marks the user's unread notifications matching `condition` read; appends `notifications.read`
    /// when any were.
    func markNotificationsRead(of userID: UUID, where condition: SQLQueryString, now: Date) async throws {
        let ids = try await sql.raw(
            "UPDATE notifications SET read_at = \(bind: now) WHERE user_id = \(bind: userID) AND read_at IS NULL AND " + condition + " RETURNING id"
        ).all().map { try $0.decodeUUID(column: "id") }
        guard !ids.isEmpty else { return }
        let unread = try await sql.unreadNotifications(of: userID)
        try await append(to: .user(userID), .notificationsRead(NotificationsChangedData(ids: ids, unreadCount: unread)), at: now)
    }

    /// Deletes the notifications of a deleted message; appends `notifications.removed` to each
    /// recipient's stream.
    func removeNotifications(of messageID: UUID, now: Date) async throws {
        let rows = try await sql.raw("DELETE FROM notifications WHERE message_id = \(bind: messageID) RETURNING id, user_id").all()
        var removed: [UUID: [UUID]] = [:]
        for row in rows { removed[try row.decodeUUID(column: "user_id"), default: []].append(try row.decodeUUID(column: "id")) }
        for (userID, ids) in removed.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            let unread = try await sql.unreadNotifications(of: userID)
            try await append(to: .user(userID), .notificationsRemoved(NotificationsChangedData(ids: ids, unreadCount: unread)), at: now)
        }
    }

    /// The start of a message's text, as notifications show it.
    static func excerpt(of body: String) -> String {
        body.count <= 140 ? body : String(body.prefix(139)) + "…"
    }
}

/// What one recipient's settings let through, in one conversation.
struct RecipientSettings {
    var level: NotificationLevel
    var mutedUntil: Date?
    var quietHours: QuietHours
    /// Unread notifications before this one.
    var unread: Int
    var subscriptions: [UUID]

    func isMuted(_ now: Date) -> Bool { mutedUntil.map { $0 > now } ?? false }

    /// Whether a notification of `kind` reaches the inbox: a direct conversation's plain message
    /// only at `all` and unmuted; mentions, replies and invitations always.
    func admits(_ kind: NotificationKind, now: Date) -> Bool {
        kind != .direct || (level == .all && !isMuted(now))
    }

    /// Whether it is also pushed: `none` and a mute hold back every push, `mentions` all but
    /// mentions and replies, quiet hours all; invitations are held back by quiet hours only.
    func pushes(_ kind: NotificationKind, now: Date) -> Bool {
        guard !subscriptions.isEmpty, !quietHours.covers(now) else { return false }
        if kind == .addedToGroup { return true }
        guard !isMuted(now) else { return false }
        switch level {
        case .all: return true
        case .mentions: return kind != .direct
        case .none: return false
        }
    }
}

extension SQLDatabase {
    func unreadNotifications(of userID: UUID) async throws -> Int {
        try await raw("SELECT COUNT(*) AS unread FROM notifications WHERE user_id = \(bind: userID) AND read_at IS NULL")
            .first()?.decode(column: "unread", as: Int.self) ?? 0
    }

    /// The users each message names, in order.
    func mentions(of messageIDs: [UUID]) async throws -> [UUID: [UUID]] {
        guard !messageIDs.isEmpty else { return [:] }
        let rows = try await raw(
            "SELECT message_id, user_id FROM message_mentions WHERE message_id IN (\(binds: messageIDs)) ORDER BY message_id, position"
        ).all()
        var mentions: [UUID: [UUID]] = [:]
        for row in rows { mentions[try row.decodeUUID(column: "message_id"), default: []].append(try row.decodeUUID(column: "user_id")) }
        return mentions
    }
}

extension InboxNotification {
    init(row: any SQLRow, links: MediaLinks) throws {
        self.init(
            id: try row.decodeUUID(column: "id"),
            kind: NotificationKind(rawValue: try row.decode(column: "kind", as: String.self)) ?? .mention,
            conversationID: try row.decodeUUID(column: "conversation_id"),
            messageID: try row.decodeOptionalUUID(column: "message_id"),
            actor: try PublicUser(row: row, prefix: "a_", links: links),
            excerpt: try row.decode(column: "excerpt", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            readAt: try row.decode(column: "read_at", as: Date?.self)
        )
    }
}
