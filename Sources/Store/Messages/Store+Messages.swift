package import Foundation
package import Models
import SQLKit

/// Which part of a conversation's history to read.
package struct HistoryQuery: Sendable {
    /// Only messages with a smaller seq (older).
    package var before: Int64?
    /// Only messages with a greater seq (newer).
    package var after: Int64?
    package var limit: Int

    package init(before: Int64?, after: Int64?, limit: Int) {
        self.before = before
        self.after = after
        self.limit = limit
    }
}

extension Store {
    // MARK: - Sending and changing messages

    /// Sends a message; `created` is false when this sender already sent `clientMessageID` here,
    /// in which case the original comes back unchanged — also under concurrent retries.
    package func sendMessage(
        to conversationID: UUID,
        from senderID: UUID,
        clientMessageID: String,
        body: String,
        replyTo replyToID: UUID?,
        attachments uploadIDs: [UUID] = [],
        now: Date
    ) async throws -> (message: Message, created: Bool) {
        let links = media
        do {
            return try await write(batch: conversationID) { [accounts] transaction in
                let membership = try await transaction.sql.authorize(senderID, in: conversationID)
                try await transaction.refuseIfBlocked(senderID, in: membership)
                try await transaction.refuseIfPeerDeleted(in: membership)
                if accounts.requiresVerifiedEmail {
                    let verified = try await transaction.sql.raw(
                        "SELECT 1 AS verified FROM users WHERE id = \(bind: senderID) AND email_verified_at IS NOT NULL"
                    ).first()
                    guard verified != nil else {
                        throw Problem.forbidden("Confirm your e-mail address first, with the link mailed to it (POST /auth/verify-email/resend mails a new one).")
                    }
                }
                if let original = try await transaction.sql.sentMessage(clientMessageID, from: senderID, in: conversationID, links: links) {
                    return (original, false)
                }
                var repliedTo: UUID?
                if let replyToID {
                    let target = try await transaction.sql.raw(
                        "SELECT sender_id FROM messages WHERE id = \(bind: replyToID) AND conversation_id = \(bind: conversationID)"
                    ).first()
                    guard let target else {
                        throw Problem.invalidField("replyToId", .notFound, "No such message in this conversation.")
                    }
                    repliedTo = try target.decodeUUID(column: "sender_id")
                }
                let mentions = try await transaction.mentions(in: body, by: membership)
                var message = Message(
                    id: UUID(),
                    conversationID: conversationID,
                    seq: 0,
                    senderID: senderID,
                    body: body,
                    clientMessageID: clientMessageID,
                    replyToID: replyToID,
                    createdAt: now,
                    editedAt: nil,
                    isDeleted: false,
                    attachments: try await transaction.sql.unusedUploads(uploadIDs, of: senderID, links: links),
                    mentions: mentions.ids,
                    mentionsAll: mentions.all
                )
                let event = try await transaction.append(
                    to: .conversation(conversationID),
                    at: now,
                    alongside: { seq in
                        [
                            """
                            INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body, reply_to_id, created_at, mentions_all)
                            VALUES (\(bind: message.id), \(bind: conversationID), \(seq), \(bind: senderID),
                                    \(bind: clientMessageID), \(bind: body), \(bind: replyToID), \(bind: now), \(bind: mentions.all ? 1 : 0))
                            """,
                            """
                            UPDATE conversations SET last_message_seq = \(seq), activity_at = \(bind: now.microseconds)
                            WHERE id = \(bind: conversationID)
                            """,
                        ]
                    },
                    payload: { seq in
                        message.seq = seq
                        return .messageCreated(message)
                    }
                )
                message.seq = event.seq
                try await transaction.attach(uploadIDs, to: message.id, by: senderID)
                try await transaction.insertMentions(mentions.ids, of: message.id)
                let everyone = mentions.all ? try await transaction.otherMembers(of: conversationID, than: senderID) : []
                let peer = membership.kind == .direct ? try await transaction.otherMembers(of: conversationID, than: senderID) : []
                try await transaction.notify(
                    (mentions.ids + everyone).map { ($0, .mention) } + (repliedTo.map { [($0, .reply)] } ?? []) + peer.map { ($0, .direct) },
                    in: conversationID,
                    message: message.id,
                    actor: senderID,
                    excerpt: body,
                    now: now
                )
                if !uploadIDs.isEmpty {
                    message.attachments = try await transaction.sql.attachments(of: [message.id], links: links, for: .viewer(senderID))[message.id] ?? []
                }
                return (message, true)
            }
        } catch where database.isUniqueViolation(error) {
            // A retry of this send committed first (the unique index on client message ids decides,
            // and the rollback took back this attempt's seq): answer with that message.
            let original = try await database.read { sql in
                try await sql.sentMessage(clientMessageID, from: senderID, in: conversationID, links: links)
            }
            guard let original else { throw error }
            return (original, false)
        }
    }

    /// Changes the text of one's own message; sets `editedAt` and appends `message.updated`. Earlier
    /// events that carried the old text now carry the new one.
    package func editMessage(_ id: UUID, by editorID: UUID, body: String, now: Date) async throws -> Message {
        try await write { transaction in
            let (message, membership) = try await transaction.visibleMessage(id, to: editorID)
            guard message.senderID == editorID else { throw Problem.forbidden("Only its sender may edit a message.") }
            guard !message.isDeleted else { throw Problem.messageDeleted }
            try await transaction.sql.raw("UPDATE messages SET body = \(bind: body), edited_at = \(bind: now) WHERE id = \(bind: id)").run()
            // Mentions follow the text; whom it names for the first time is told once (a mention
            // taken out again tells nobody anything), and the notifications show the new text.
            let wasAll = message.mentionsAll
            let mentions = try await transaction.mentions(in: body, by: membership)
            let named = try await transaction.recordMentions(mentions, of: id)
            try await transaction.sql.raw("UPDATE notifications SET excerpt = \(bind: Transaction.excerpt(of: body)) WHERE message_id = \(bind: id)").run()
            let everyone = mentions.all && !wasAll ? try await transaction.otherMembers(of: message.conversationID, than: editorID) : []
            try await transaction.notify(
                (named + everyone).map { ($0, .mention) }, in: message.conversationID, message: id, actor: editorID, excerpt: body, now: now
            )
            var edited = message
            edited.body = body
            edited.editedAt = now
            edited.mentions = mentions.ids
            edited.mentionsAll = mentions.all
            edited.attachments = try await transaction.sql.attachments(of: [id], links: transaction.media, for: .event)[id] ?? []
            try await transaction.rewriteEvents(of: edited)
            try await transaction.append(
                to: .conversation(message.conversationID),
                .messageUpdated(
                    MessageUpdatedData(
                        id: id, conversationID: message.conversationID, seq: message.seq, body: body, editedAt: now,
                        mentions: mentions.ids, mentionsAll: mentions.all
                    )
                ),
                at: now
            )
            return try await transaction.sql.completed([edited], for: editorID, links: transaction.media)[0]
        }
    }

    /// Deletes a message, leaving a tombstone: by its sender, or in a group by an admin or the owner.
    /// Its text and images are gone everywhere — the row, the search index, and every event that
    /// carried them.
    package func deleteMessage(_ id: UUID, by actorID: UUID, now: Date) async throws {
        try await write { transaction in
            let (message, membership) = try await transaction.visibleMessage(id, to: actorID)
            guard !message.isDeleted else { throw Problem.notFound("No such message.") }
            guard message.senderID == actorID || (membership.kind == .group && membership.role >= .admin) else {
                throw Problem.forbidden("Only its sender or a group admin may delete a message.")
            }
            try await transaction.tombstone(message, deletedBy: actorID, now: now)
        }
    }

    /// Adds (`add`) or removes the user's `emoji` on a message; repeating either changes nothing
    /// and logs nothing.
    package func react(to id: UUID, by userID: UUID, emoji: String, add: Bool, now: Date) async throws {
        try await write { transaction in
            let (message, membership) = try await transaction.visibleMessage(id, to: userID)
            try await transaction.refuseIfBlocked(userID, in: membership)
            let changed: Bool
            if add {
                guard !message.isDeleted else { throw Problem.messageDeleted }
                changed = try await transaction.sql.raw(
                    """
                    INSERT INTO reactions (message_id, emoji, user_id, created_at)
                    VALUES (\(bind: id), \(bind: emoji), \(bind: userID), \(bind: now))
                    ON CONFLICT (message_id, emoji, user_id) DO NOTHING
                    RETURNING message_id
                    """
                ).first() != nil
            } else {
                changed = try await transaction.sql.raw(
                    """
                    DELETE FROM reactions WHERE message_id = \(bind: id) AND emoji = \(bind: emoji) AND user_id = \(bind: userID)
                    RETURNING message_id
                    """
                ).first() != nil
            }
            guard changed else { return }
            let reaction = ReactionData(messageID: id, conversationID: message.conversationID, messageSeq: message.seq, userID: userID, emoji: emoji)
            try await transaction.append(
                to: .conversation(message.conversationID),
                add ? .reactionAdded(reaction) : .reactionRemoved(reaction),
                at: now
            )
        }
    }

    // MARK: - Reading history

    /// A page of history in ascending seq order, with each message's reactions as `viewer` sees them.
    ///
    /// Without cursors: the newest `limit` messages. `before`: the newest `limit` older than it.
    /// `after`: the oldest `limit` newer than it. Three queries whatever the page: the membership,
    /// the messages (a range of the `(conversation_id, seq)` index) and their reactions.
    package func history(of conversationID: UUID, viewer: UUID, _ query: HistoryQuery) async throws -> MessagePage {
        let links = media
        return try await database.read { sql in
            _ = try await sql.authorize(viewer, in: conversationID)
            var statement = SQLQueryString("SELECT \(unsafeRaw: Message.columns()) FROM messages WHERE conversation_id = \(bind: conversationID)")
            if let before = query.before { statement = statement + " AND seq < \(bind: before)" }
            if let after = query.after { statement = statement + " AND seq > \(bind: after)" }
            let newestFirst = query.after == nil
            statement = statement + " ORDER BY seq \(unsafeRaw: newestFirst ? "DESC" : "ASC") LIMIT \(bind: query.limit + 1)"
            let rows = try await sql.raw(statement).all()
            var messages = try rows.prefix(query.limit).map { try Message(row: $0) }
            if newestFirst { messages.reverse() }
            return MessagePage(items: try await sql.completed(messages, for: viewer, links: links), hasMore: rows.count > query.limit)
        }
    }

    /// Moves the reader's position forward to `seq` (never back, never past the conversation's end);
    /// appends `receipt.updated` when it moved.
    package func markRead(_ conversationID: UUID, by userID: UUID, upTo seq: Int64, now: Date) async throws {
        try await write(batch: conversationID) { transaction in
            let membership = try await transaction.sql.authorize(userID, in: conversationID)
            try await transaction.refuseIfBlocked(userID, in: membership)
            let lastSeq = try await transaction.sql.raw(
                "SELECT last_seq FROM event_streams WHERE stream = \(bind: StreamID.conversation(conversationID).rawValue)"
            ).first()?.decode(column: "last_seq", as: Int64.self) ?? 0
            let position = min(seq, lastSeq)
            guard position > membership.lastReadSeq else { return }
            try await transaction.sql.raw(
                """
                UPDATE members SET last_read_seq = \(bind: position)
                WHERE conversation_id = \(bind: conversationID) AND user_id = \(bind: userID)
                """
            ).run()
            try await transaction.append(
                to: .conversation(conversationID),
                .receiptUpdated(ReceiptData(conversationID: conversationID, userID: userID, lastReadSeq: position)),
                at: now
            )
            // Reading the messages reads their notifications, on every device.
            try await transaction.markNotificationsRead(
                of: userID,
                where: """
                    conversation_id = \(bind: conversationID)
                    AND message_id IN (SELECT id FROM messages WHERE conversation_id = \(bind: conversationID) AND seq <= \(bind: position))
                    """,
                now: now
            )
        }
    }

    /// A conversation's event log after `seq`, for its members, and the stream's last seq.
    package func conversationEvents(
        _ conversationID: UUID,
        viewer: UUID,
        after seq: Int64,
        limit: Int
    ) async throws -> (events: [Event], lastSeq: Int64) {
        try await database.read { sql in
            _ = try await sql.authorize(viewer, in: conversationID)
            let stream = StreamID.conversation(conversationID)
            let events = try await sql.events(in: stream, after: seq, limit: limit).map(\.event)
            let lastSeq = try await sql.lastSeq(of: stream)
            return (events, lastSeq)
        }
    }
}

extension Transaction {
    /// A message and the viewer's membership of its conversation; 404 when either is missing,
    /// so that messages of other conversations are indistinguishable from none.
    /// Deletes a message: its text, reactions, mentions, notifications and images go, the events
    /// that carried its text are rewritten, and `message.deleted` is appended.
    func tombstone(_ message: Message, deletedBy actorID: UUID, now: Date) async throws {
        let id = message.id
        try await sql.raw("UPDATE messages SET body = NULL, deleted_at = \(bind: now) WHERE id = \(bind: id)").run()
        try await sql.raw("DELETE FROM reactions WHERE message_id = \(bind: id)").run()
        // Its images go too: their links stop working now, their bytes when the janitor next runs.
        try await sql.raw("DELETE FROM uploads WHERE message_id = \(bind: id)").run()
        _ = try await recordMentions(([], false), of: id)
        try await removeNotifications(of: id, now: now)
        var tombstone = message
        tombstone.body = nil
        tombstone.isDeleted = true
        tombstone.mentions = []
        tombstone.mentionsAll = false
        try await rewriteEvents(of: tombstone)
        try await append(
            to: .conversation(message.conversationID),
            .messageDeleted(MessageDeletedData(id: id, conversationID: message.conversationID, seq: message.seq, deletedBy: actorID)),
            at: now
        )
    }

    func visibleMessage(_ id: UUID, to viewer: UUID) async throws -> (message: Message, membership: Membership) {
        guard let row = try await sql.raw("SELECT \(unsafeRaw: Message.columns()) FROM messages WHERE id = \(bind: id)").first(),
            let membership = try await sql.membership(of: viewer, in: try row.decodeUUID(column: "conversation_id"))
        else { throw Problem.notFound("No such message.") }
        return (try Message(row: row), membership)
    }

    /// Refuses whoever the other member of a direct conversation has blocked: no messages,
    /// reactions, read receipts (nor, through `Store.mayInteract`, typing) reach the blocker.
    /// Refuses a new message to a direct conversation whose other member deleted their account.
    func refuseIfPeerDeleted(in membership: Membership) async throws {
        guard membership.kind == .direct else { return }
        let deleted = try await sql.raw(
            """
            SELECT 1 AS deleted FROM members m JOIN users u ON u.id = m.user_id
            WHERE m.conversation_id = \(bind: membership.conversationID) AND m.user_id <> \(bind: membership.userID) AND u.deleted_at IS NOT NULL
            """
        ).first()
        if deleted != nil { throw Problem.forbidden("This account was deleted; nothing reaches it any more.") }
    }

    func refuseIfBlocked(_ userID: UUID, in membership: Membership) async throws {
        guard membership.kind == .direct, try await sql.isBlockedByPeer(userID, in: membership.conversationID) else { return }
        throw Problem.forbidden("This user does not accept anything from you here.")
    }
}

extension Store {
    /// Whether `userID` may signal the other members of a conversation (typing): not when it is a
    /// direct one whose other member blocked them.
    package func mayInteract(_ userID: UUID, in conversationID: UUID) async throws -> Bool {
        try await read { sql in
            try await sql.raw(
                """
                SELECT 1 AS blocked FROM conversations c JOIN members m ON m.conversation_id = c.id
                JOIN blocks b ON b.blocker_id = m.user_id
                WHERE c.id = \(bind: conversationID) AND c.kind = 'direct' AND m.user_id <> \(bind: userID) AND b.blocked_id = \(bind: userID)
                """
            ).first() == nil
        }
    }
}

extension SQLDatabase {
    /// Whether the other member of a direct conversation has blocked `senderID`.
    func isBlockedByPeer(_ senderID: UUID, in conversationID: UUID) async throws -> Bool {
        try await raw(
            """
            SELECT 1 AS blocked FROM members m JOIN blocks b ON b.blocker_id = m.user_id
            WHERE m.conversation_id = \(bind: conversationID) AND m.user_id <> \(bind: senderID) AND b.blocked_id = \(bind: senderID)
            """
        ).first() != nil
    }
}

extension SQLDatabase {
    /// The message `senderID` already sent to the conversation with this client message id, with
    /// its reactions and images.
    func sentMessage(_ clientMessageID: String, from senderID: UUID, in conversationID: UUID, links: MediaLinks) async throws -> Message? {
        guard let row = try await raw(
            """
            SELECT \(unsafeRaw: Message.columns()) FROM messages
            WHERE conversation_id = \(bind: conversationID) AND sender_id = \(bind: senderID)
                  AND client_message_id = \(bind: clientMessageID)
            """
        ).first() else { return nil }
        return try await completed([Message(row: row)], for: senderID, links: links).first
    }

    /// `messages` with their reactions as `viewer` sees them and their images with links for
    /// `viewer`: two queries, whatever the number of messages.
    func completed(_ messages: [Message], for viewer: UUID, links: MediaLinks) async throws -> [Message] {
        let ids = messages.map(\.id)
        let reactions = try await reactionSummaries(for: ids, viewer: viewer)
        let attachments = try await attachments(of: ids, links: links, for: .viewer(viewer))
        let mentions = try await mentions(of: ids)
        return messages.map { message in
            var message = message
            message.reactions = reactions[message.id] ?? []
            message.attachments = attachments[message.id] ?? []
            message.mentions = mentions[message.id] ?? []
            return message
        }
    }

    /// The reactions of `messageIDs` grouped by emoji, in order of first use, in one query.
    func reactionSummaries(for messageIDs: [UUID], viewer: UUID) async throws -> [UUID: [Reaction]] {
        guard !messageIDs.isEmpty else { return [:] }
        let rows = try await raw(
            """
            SELECT message_id, emoji, COUNT(*) AS count, MAX(CASE WHEN user_id = \(bind: viewer) THEN 1 ELSE 0 END) AS me,
                   MIN(created_at) AS first_at
            FROM reactions WHERE message_id IN (\(binds: messageIDs))
            GROUP BY message_id, emoji
            ORDER BY first_at, emoji
            """
        ).all()
        var summaries: [UUID: [Reaction]] = [:]
        for row in rows {
            let id = try row.decodeUUID(column: "message_id")
            summaries[id, default: []].append(
                Reaction(
                    emoji: try row.decode(column: "emoji", as: String.self),
                    count: Int(try row.decode(column: "count", as: Int64.self)),
                    me: try row.decode(column: "me", as: Int64.self) == 1
                )
            )
        }
        return summaries
    }
}

extension Message {
    /// The `messages` columns, optionally qualified by `table` and renamed with `prefix`.
    static func columns(table: String? = nil, prefix: String = "") -> String {
        selectList(
            ["id", "conversation_id", "seq", "sender_id", "client_message_id", "body", "reply_to_id", "created_at", "edited_at", "deleted_at", "mentions_all"],
            table: table,
            prefix: prefix
        )
    }

    init(row: any SQLRow, prefix: String = "") throws {
        self.init(
            id: try row.decodeUUID(column: prefix + "id"),
            conversationID: try row.decodeUUID(column: prefix + "conversation_id"),
            seq: try row.decode(column: prefix + "seq", as: Int64.self),
            senderID: try row.decodeUUID(column: prefix + "sender_id"),
            body: try row.decode(column: prefix + "body", as: String?.self),
            clientMessageID: try row.decode(column: prefix + "client_message_id", as: String.self),
            replyToID: try row.decodeOptionalUUID(column: prefix + "reply_to_id"),
            createdAt: try row.decode(column: prefix + "created_at", as: Date.self),
            editedAt: try row.decode(column: prefix + "edited_at", as: Date?.self),
            isDeleted: try row.decode(column: prefix + "deleted_at", as: Date?.self) != nil,
            mentionsAll: try row.decode(column: prefix + "mentions_all", as: Int.self) != 0
        )
    }
}
