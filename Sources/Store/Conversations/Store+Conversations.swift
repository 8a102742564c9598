package import Foundation
package import Models
import SQLKit

/// What membership changes may not exceed.
package struct MembershipLimits: Sendable {
    /// Members of one group, owner included.
    package var maxMembers: Int
    /// Conversations one user belongs to, direct ones included.
    package var maxConversationsPerUser: Int

    package init(maxMembers: Int = 1000, maxConversationsPerUser: Int = 10_000) {
        self.maxMembers = maxMembers
        self.maxConversationsPerUser = maxConversationsPerUser
    }
}

// MARK: - Authorization

extension SQLDatabase {
    /// The user's membership of the conversation, if any.
    func membership(of userID: UUID, in conversationID: UUID) async throws -> Membership? {
        try await raw(
            """
            SELECT m.role, m.joined_at, m.last_read_seq, c.kind FROM members m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.conversation_id = \(bind: conversationID) AND m.user_id = \(bind: userID)
            """
        ).first().map { row in
            Membership(
                conversationID: conversationID,
                kind: try row.decode(column: "kind", as: ConversationKind.self),
                userID: userID,
                role: try row.decode(column: "role", as: MemberRole.self),
                joinedAt: try row.decode(column: "joined_at", as: Date.self),
                lastReadSeq: try row.decode(column: "last_read_seq", as: Int64.self)
            )
        }
    }

    /// The one authorization rule of every conversation route: non-members get 404 (the conversation's
    /// existence is not theirs to learn), members without the role get 403. `groupOnly` answers 404
    /// for a direct conversation reached through a group route.
    func authorize(
        _ userID: UUID,
        in conversationID: UUID,
        atLeast role: MemberRole = .member,
        groupOnly: Bool = false
    ) async throws -> Membership {
        guard let membership = try await membership(of: userID, in: conversationID),
            !(groupOnly && membership.kind != .group)
        else { throw Problem.notFound(groupOnly ? "No such group." : "No such conversation.") }
        guard membership.role >= role else {
            throw Problem.forbidden(role == .owner ? "Only the group's owner may do this." : "Only the group's admins may do this.")
        }
        return membership
    }
}

extension Store {
    // MARK: - Creating

    /// The direct conversation between two users, created on first use; `created` says which.
    ///
    /// One per pair, also when both open it at once. Someone the other has blocked cannot open it.
    package func openDirectConversation(
        from userID: UUID,
        with otherID: UUID,
        limits: MembershipLimits,
        now: Date
    ) async throws -> (conversation: Conversation, created: Bool) {
        guard userID != otherID else {
            throw Problem.invalidField("userId", .invalidFormat, "A direct conversation needs someone else.")
        }
        let key = [userID, otherID].map(\.lowercased).sorted().joined(separator: ":")
        let (conversationID, created) = try await write { transaction -> (UUID, Bool) in
            try await transaction.lockStreams([.user(userID), .user(otherID)])
            guard let other = try await transaction.publicUser(otherID) else { throw Problem.notFound("No such user.") }
            if let existing = try await transaction.sql.raw("SELECT id FROM conversations WHERE direct_key = \(bind: key)").first() {
                return (try existing.decodeUUID(column: "id"), false)
            }
            guard other.deleted != true else { throw Problem.notFound("No such user.") }
            guard try await !transaction.hasBlocked(otherID, userID) else {
                throw Problem.forbidden("You cannot start a conversation with this user.")
            }
            try await transaction.requireRoom(for: [userID, otherID], limit: limits.maxConversationsPerUser)
            let id = UUID()
            let inserted = try await transaction.sql.raw(
                """
                INSERT INTO conversations (id, stream, kind, direct_key, created_by, created_at, activity_at, member_count)
                VALUES (\(bind: id), \(bind: StreamID.conversation(id).rawValue), 'direct', \(bind: key), \(bind: userID),
                        \(bind: now), \(bind: now.microseconds), 2)
                ON CONFLICT (direct_key) DO NOTHING
                RETURNING id
                """
            ).first()
            guard inserted != nil else {
                // A concurrent open won the race; its conversation is committed and visible now.
                let winner = try await transaction.sql.raw("SELECT id FROM conversations WHERE direct_key = \(bind: key)").first()
                guard let winner else { throw StoreError.noRowReturned("conversations") }
                return (try winner.decodeUUID(column: "id"), false)
            }
            let payload = try await transaction.conversationData(id)
            try await transaction.append(to: .conversation(id), .conversationCreated(payload), at: now)
            for member in [userID, otherID] {
                try await transaction.addMember(member, role: .member, to: id, by: userID, payload: payload, now: now)
            }
            return (id, true)
        }
        guard let view = try await conversation(conversationID, viewer: userID) else { throw StoreError.noRowReturned("members") }
        return (view, created)
    }

    /// A new group with `ownerID` as its owner and `memberIDs` as members.
    package func createGroup(
        owner ownerID: UUID,
        title: String,
        description: String,
        memberIDs: [UUID],
        limits: MembershipLimits,
        now: Date
    ) async throws -> Conversation {
        let others = Self.unique(memberIDs.filter { $0 != ownerID })
        guard others.count + 1 <= limits.maxMembers else { throw Problem.groupFull(limit: limits.maxMembers) }
        let id = UUID()
        try await write { transaction in
            try await transaction.lockStreams(([ownerID] + others).map(StreamID.user))
            try await transaction.requireUsersExist(others, field: "memberIds")
            try await transaction.requireAddable(others, by: ownerID, field: "memberIds", in: memberIDs)
            try await transaction.requireRoom(for: [ownerID] + others, limit: limits.maxConversationsPerUser)
            try await transaction.sql.raw(
                """
                INSERT INTO conversations (id, stream, kind, title, description, created_by, created_at, activity_at, member_count)
                VALUES (\(bind: id), \(bind: StreamID.conversation(id).rawValue), 'group', \(bind: title), \(bind: description),
                        \(bind: ownerID), \(bind: now), \(bind: now.microseconds), \(bind: others.count + 1))
                """
            ).run()
            let payload = try await transaction.conversationData(id)
            try await transaction.append(to: .conversation(id), .conversationCreated(payload), at: now)
            try await transaction.addMember(ownerID, role: .owner, to: id, by: ownerID, payload: payload, now: now)
            for member in others {
                try await transaction.addMember(member, role: .member, to: id, by: ownerID, payload: payload, now: now)
            }
            try await transaction.notify(others.map { ($0, .addedToGroup) }, in: id, message: nil, actor: ownerID, excerpt: nil, now: now)
        }
        guard let view = try await conversation(id, viewer: ownerID) else { throw StoreError.noRowReturned("conversations") }
        return view
    }

    // MARK: - Reading

    /// One conversation as `viewer` sees it; nil when they are not a member.
    package func conversation(_ id: UUID, viewer: UUID) async throws -> Conversation? {
        let links = media
        return try await database.read { sql in
            try await sql.conversationViews(viewer: viewer, only: id, after: nil, limit: 1, links: links).first?.view
        }
    }

    /// The viewer's conversations, latest activity first.
    package func conversations(of viewer: UUID, limit: Int, cursor: String?) async throws -> Page<Conversation> {
        let after = try Cursor(decoding: cursor, count: 2)
        let keyset = try after.map { try ($0.int64(0), $0.uuid(1)) }
        let links = media
        return try await database.read { sql in
            let views = try await sql.conversationViews(viewer: viewer, only: nil, after: keyset, limit: limit + 1, links: links)
            let page = Array(views.prefix(limit))
            let next = views.count > limit ? page.last.map { Cursor(String($0.activityMicroseconds), $0.view.id.uuidString).encoded } : nil
            return Page(items: page.map(\.view), nextCursor: next)
        }
    }

    /// The conversation's members, owner first, then admins, then by name.
    package func members(of conversationID: UUID, viewer: UUID) async throws -> [Member] {
        let links = media
        return try await database.read { sql in
            _ = try await sql.authorize(viewer, in: conversationID)
            return try await sql.raw(
                """
                SELECT m.role, m.joined_at, m.last_read_seq, \(PublicUser.columns(prefix: "u_", seenBy: viewer))
                FROM members m JOIN users u ON u.id = m.user_id
                WHERE m.conversation_id = \(bind: conversationID)
                ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.display_name_key, u.username
                """
            ).all().map { row in
                Member(
                    user: try PublicUser(row: row, prefix: "u_", links: links),
                    role: try row.decode(column: "role", as: MemberRole.self),
                    joinedAt: try row.decode(column: "joined_at", as: Date.self),
                    lastReadSeq: try row.decode(column: "last_read_seq", as: Int64.self)
                )
            }
        }
    }

    // MARK: - Administering groups

    /// Changes a group's title and/or description (admins and the owner). Appends `conversation.updated`.
    package func updateGroup(_ id: UUID, by actorID: UUID, title: String?, description: String?, now: Date) async throws -> Conversation {
        try await write { transaction in
            try await transaction.lockConversation(id)
            _ = try await transaction.sql.authorize(actorID, in: id, atLeast: .admin, groupOnly: true)
            guard title != nil || description != nil else { return }
            try await transaction.sql.raw(
                """
                UPDATE conversations SET title = COALESCE(\(bind: title), title), description = COALESCE(\(bind: description), description)
                WHERE id = \(bind: id)
                """
            ).run()
            try await transaction.append(to: .conversation(id), .conversationUpdated(try await transaction.conversationData(id)), at: now)
        }
        guard let view = try await conversation(id, viewer: actorID) else { throw Problem.notFound("No such group.") }
        return view
    }

    /// Deletes a group with its history (the owner only). Every member's stream learns of it.
    package func deleteGroup(_ id: UUID, by actorID: UUID, now: Date) async throws {
        try await write { transaction in
            try await transaction.lockConversation(id)
            _ = try await transaction.sql.authorize(actorID, in: id, atLeast: .owner, groupOnly: true)
            try await transaction.deleteConversation(id, by: actorID, now: now)
        }
    }

    /// Adds users to a group (admins and the owner); members already in it are left as they are.
    package func addMembers(
        _ userIDs: [UUID],
        to id: UUID,
        by actorID: UUID,
        limits: MembershipLimits,
        now: Date
    ) async throws -> [Member] {
        try await write { transaction in
            try await transaction.lockConversation(id)
            _ = try await transaction.sql.authorize(actorID, in: id, atLeast: .admin, groupOnly: true)
            let candidates = Self.unique(userIDs)
            try await transaction.requireUsersExist(candidates, field: "userIds")
            var newcomers: [UUID] = []
            for userID in candidates where try await transaction.sql.membership(of: userID, in: id) == nil {
                newcomers.append(userID)
            }
            guard !newcomers.isEmpty else { return }
            let count = try await transaction.memberCount(id)
            guard count + newcomers.count <= limits.maxMembers else { throw Problem.groupFull(limit: limits.maxMembers) }
            try await transaction.requireAddable(newcomers, by: actorID, field: "userIds", in: userIDs)
            try await transaction.requireRoom(for: newcomers, limit: limits.maxConversationsPerUser)
            try await transaction.lockStreams(newcomers.map(StreamID.user))
            try await transaction.sql.raw(
                "UPDATE conversations SET member_count = member_count + \(bind: newcomers.count) WHERE id = \(bind: id)"
            ).run()
            let payload = try await transaction.conversationData(id)
            for userID in newcomers {
                try await transaction.addMember(userID, role: .member, to: id, by: actorID, payload: payload, now: now)
            }
            try await transaction.notify(newcomers.map { ($0, .addedToGroup) }, in: id, message: nil, actor: actorID, excerpt: nil, now: now)
        }
        return try await members(of: id, viewer: actorID)
    }

    /// Removes a member, or — when `targetID` is the actor — leaves.
    ///
    /// Admins remove members; only the owner removes admins; nobody removes the owner. The owner
    /// leaves only after handing ownership on, unless they are the last member: then the group goes.
    package func removeMember(_ targetID: UUID, from id: UUID, by actorID: UUID, now: Date) async throws {
        try await write { transaction in
            try await transaction.lockConversation(id)
            let actor = try await transaction.sql.authorize(actorID, in: id, groupOnly: true)
            if targetID == actorID {
                if actor.role == .owner {
                    guard try await transaction.memberCount(id) == 1 else { throw Problem.ownerMustTransfer }
                    try await transaction.deleteConversation(id, by: actorID, now: now)
                    return
                }
                try await transaction.removeMember(actorID, from: id, by: actorID, reason: .left, now: now)
                return
            }
            guard actor.role >= .admin else { throw Problem.forbidden("Only the group's admins may remove members.") }
            guard let target = try await transaction.sql.membership(of: targetID, in: id) else {
                throw Problem.notFound("No such member.")
            }
            guard target.role < actor.role, target.role != .owner else {
                throw Problem.forbidden(target.role == .owner ? "Nobody can remove the owner." : "Only the owner may remove admins.")
            }
            try await transaction.removeMember(targetID, from: id, by: actorID, reason: .removed, now: now)
        }
    }

    /// Changes a member's role (the owner only). `owner` hands ownership on; the old owner becomes an admin.
    package func changeRole(of targetID: UUID, in id: UUID, to role: MemberRole, by actorID: UUID, now: Date) async throws -> Member {
        try await write { transaction in
            try await transaction.lockConversation(id)
            _ = try await transaction.sql.authorize(actorID, in: id, atLeast: .owner, groupOnly: true)
            guard targetID != actorID else {
                throw Problem.invalidField("role", .invalidFormat, "The owner changes roles by handing ownership to someone else.")
            }
            guard let target = try await transaction.sql.membership(of: targetID, in: id) else { throw Problem.notFound("No such member.") }
            guard target.role != role else { return }
            if role == .owner {
                try await transaction.setRole(.admin, of: actorID, in: id, by: actorID, now: now)
            }
            try await transaction.setRole(role, of: targetID, in: id, by: actorID, now: now)
        }
        guard let member = try await members(of: id, viewer: actorID).first(where: { $0.user.id == targetID }) else {
            throw Problem.notFound("No such member.")
        }
        return member
    }

    static func unique(_ ids: [UUID]) -> [UUID] {
        var seen = Set<UUID>()
        return ids.filter { seen.insert($0).inserted }
    }
}

// MARK: - Writing members and events

extension Transaction {
    /// Adds one member, with `member.added` in the conversation's stream and `conversation.joined` in theirs.
    func addMember(_ userID: UUID, role: MemberRole, to id: UUID, by actorID: UUID, payload: ConversationData, now: Date) async throws {
        try await sql.raw(
            """
            INSERT INTO members (conversation_id, user_id, role, joined_at)
            VALUES (\(bind: id), \(bind: userID), \(bind: role.rawValue), \(bind: now))
            """
        ).run()
        guard let user = try await publicUser(userID) else { throw Problem.notFound("No such user.") }
        let added = try await append(
            to: .conversation(id),
            .memberAdded(MemberAddedData(conversationID: id, user: user, role: role, joinedAt: now, addedBy: actorID)),
            at: now
        )
        try await append(
            to: .user(userID),
            .conversationJoined(ConversationJoinedData(conversation: payload, role: role, joinedAtSeq: added.seq)),
            at: now
        )
    }

    func removeMember(_ userID: UUID, from id: UUID, by actorID: UUID, reason: DepartureReason, now: Date) async throws {
        try await sql.raw("DELETE FROM members WHERE conversation_id = \(bind: id) AND user_id = \(bind: userID)").run()
        try await sql.raw("UPDATE conversations SET member_count = member_count - 1 WHERE id = \(bind: id)").run()
        try await append(
            to: .conversation(id),
            .memberRemoved(MemberRemovedData(conversationID: id, userID: userID, removedBy: actorID, reason: reason)),
            at: now
        )
        try await append(to: .user(userID), .conversationLeft(ConversationLeftData(conversationID: id, reason: reason)), at: now)
    }

    func setRole(_ role: MemberRole, of userID: UUID, in id: UUID, by actorID: UUID, now: Date) async throws {
        try await sql.raw(
            "UPDATE members SET role = \(bind: role.rawValue) WHERE conversation_id = \(bind: id) AND user_id = \(bind: userID)"
        ).run()
        try await append(
            to: .conversation(id),
            .memberUpdated(MemberUpdatedData(conversationID: id, userID: userID, role: role, changedBy: actorID)),
            at: now
        )
    }

    /// Deletes a conversation and its history: `conversation.deleted` goes out on its stream (live
    /// only: the stream's log goes with it) and `conversation.left` into every member's.
    func deleteConversation(_ id: UUID, by actorID: UUID, now: Date) async throws {
        try await append(to: .conversation(id), .conversationDeleted(ConversationDeletedData(id: id, deletedBy: actorID)), at: now)
        let members = try await sql.raw("SELECT user_id FROM members WHERE conversation_id = \(bind: id)").all()
            .map { try $0.decodeUUID(column: "user_id") }
        try await lockStreams(members.map(StreamID.user))
        for userID in members {
            try await append(to: .user(userID), .conversationLeft(ConversationLeftData(conversationID: id, reason: .deleted)), at: now)
        }
        try await sql.raw("DELETE FROM conversations WHERE id = \(bind: id)").run()
        try await deleteStream(.conversation(id))
    }

    func memberCount(_ id: UUID) async throws -> Int {
        try await sql.raw("SELECT member_count FROM conversations WHERE id = \(bind: id)").first()?
            .decode(column: "member_count", as: Int.self) ?? 0
    }

    /// The conversation as its events describe it.
    func conversationData(_ id: UUID) async throws -> ConversationData {
        guard
            let row = try await sql.raw(
                "SELECT kind, title, description, icon_upload_id, created_at, created_by, member_count, theme FROM conversations WHERE id = \(bind: id)"
            ).first()
        else { throw StoreError.noRowReturned("conversations") }
        return ConversationData(
            id: id,
            kind: try row.decode(column: "kind", as: ConversationKind.self),
            title: try row.decode(column: "title", as: String.self),
            description: try row.decode(column: "description", as: String.self),
            iconURL: try row.decodeOptionalUUID(column: "icon_upload_id").flatMap { media.url($0, .avatar, for: .anyone) },
            createdAt: try row.decode(column: "created_at", as: Date.self),
            createdBy: try row.decodeUUID(column: "created_by"),
            memberCount: try row.decode(column: "member_count", as: Int.self),
            theme: ChatTheme(json: try row.decode(column: "theme", as: String?.self))
        )
    }

    /// Refuses, naming each in its field, the users who do not accept being added to groups by
    /// `actorID`: who has blocked them, or lets only contacts add them and does not have them as one.
    /// Both get the same answer, so a refusal does not say which it was.
    func requireAddable(_ ids: [UUID], by actorID: UUID, field: String, in given: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        let refused = Set(
            try await sql.raw(
                """
                SELECT u.id FROM users u WHERE u.id IN (\(binds: ids)) AND (
                    EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = \(bind: actorID))
                    OR (u.group_adds = 'contacts'
                        AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.owner_id = u.id AND c.contact_id = \(bind: actorID))))
                """
            ).all().map { try $0.decodeUUID(column: "id") }
        )
        guard !refused.isEmpty else { return }
        let errors = given.enumerated().filter { refused.contains($0.element) }.map { index, _ in
            FieldError(field: "\(field)[\(index)]", code: .notAllowed, detail: "This user does not accept being added to groups by you.")
        }
        throw Problem(
            code: .forbidden,
            title: "Forbidden",
            detail: "Someone you named does not accept being added to groups by you.",
            fieldErrors: errors
        )
    }

    /// Refuses when any of `ids` already belongs to `limit` conversations.
    func requireRoom(for ids: [UUID], limit: Int) async throws {
        guard !ids.isEmpty else { return }
        let full = try await sql.raw(
            """
            SELECT user_id FROM members WHERE user_id IN (\(binds: ids))
            GROUP BY user_id HAVING COUNT(*) >= \(bind: limit)
            """
        ).first()
        guard full == nil else { throw Problem.tooManyConversations(limit: limit) }
    }

    /// Refuses ids that are not users, naming the field they came in.
    func requireUsersExist(_ ids: [UUID], field: String) async throws {
        guard !ids.isEmpty else { return }
        let found = Set(
            try await sql.raw("SELECT id FROM users WHERE id IN (\(binds: ids)) AND deleted_at IS NULL").all()
                .map { try $0.decodeUUID(column: "id") }
        )
        let missing = ids.filter { !found.contains($0) }
        guard missing.isEmpty else {
            throw Problem.invalidField(field, .notFound, "No user has the id \(missing[0].lowercased).")
        }
    }
}

// MARK: - The conversation view

extension SQLDatabase {
    /// Conversations as `viewer` sees them, in one query: unread count, last message and, for direct
    /// ones, the other person's name come with each row. Reactions of the last messages take one more.
    func conversationViews(
        viewer: UUID,
        only id: UUID?,
        after keyset: (activity: Int64, id: UUID)?,
        limit: Int,
        links: MediaLinks
    ) async throws -> [ConversationRow] {
        var query = SQLQueryString(
            """
            SELECT c.id, c.kind, c.title, c.description, c.icon_upload_id, c.created_at, c.activity_at, c.member_count, c.theme,
                   COALESCE(es.last_seq, 0) AS last_seq, me.role,
                   peer.display_name AS peer_name, peer.avatar_upload_id AS peer_avatar_id,
                   (SELECT COUNT(*) FROM messages um
                    WHERE um.conversation_id = c.id AND um.seq > me.last_read_seq AND um.sender_id <> me.user_id
                          AND um.deleted_at IS NULL) AS unread_count,
                   (SELECT COUNT(*) FROM notifications nm
                    WHERE nm.user_id = me.user_id AND nm.conversation_id = c.id AND nm.kind = 'mention'
                          AND nm.read_at IS NULL) AS mention_count,
                   \(unsafeRaw: Message.columns(table: "lm", prefix: "lm_"))
            FROM members me
            JOIN conversations c ON c.id = me.conversation_id
            LEFT JOIN event_streams es ON es.stream = c.stream
            LEFT JOIN members pm ON c.kind = 'direct' AND pm.conversation_id = c.id AND pm.user_id <> me.user_id
            LEFT JOIN users peer ON peer.id = pm.user_id
            LEFT JOIN messages lm ON lm.conversation_id = c.id AND lm.seq = c.last_message_seq
            WHERE me.user_id = \(bind: viewer)
            """
        )
        if let id { query = query + " AND c.id = \(bind: id)" }
        if let keyset {
            query = query + " AND (c.activity_at < \(bind: keyset.activity) OR (c.activity_at = \(bind: keyset.activity) AND c.id < \(bind: keyset.id)))"
        }
        query = query + " ORDER BY c.activity_at DESC, c.id DESC LIMIT \(bind: limit)"
        let rows = try await raw(query).all()
        let lastMessages = try rows.compactMap { row in try row.decodeOptionalUUID(column: "lm_id") != nil ? try Message(row: row, prefix: "lm_") : nil }
        let completed = Dictionary(
            uniqueKeysWithValues: try await completed(lastMessages, for: viewer, links: links).map { ($0.id, $0) }
        )
        return try rows.map { row in
            let kind = try row.decode(column: "kind", as: ConversationKind.self)
            let lastMessage = try row.decodeOptionalUUID(column: "lm_id").flatMap { completed[$0] }
            // A direct conversation's icon is the other person's avatar, as its title is their name.
            let icon = try row.decodeOptionalUUID(column: kind == .direct ? "peer_avatar_id" : "icon_upload_id")
            let view = Conversation(
                id: try row.decodeUUID(column: "id"),
                kind: kind,
                title: kind == .direct ? try row.decode(column: "peer_name", as: String?.self) ?? "" : try row.decode(column: "title", as: String.self),
                description: try row.decode(column: "description", as: String.self).nonEmpty,
                iconURL: icon.flatMap { links.url($0, .avatar, for: .anyone) },
                createdAt: try row.decode(column: "created_at", as: Date.self),
                lastSeq: try row.decode(column: "last_seq", as: Int64.self),
                lastMessage: lastMessage,
                unreadCount: Int(try row.decode(column: "unread_count", as: Int64.self)),
                mentionCount: Int(try row.decode(column: "mention_count", as: Int64.self)),
                myRole: try row.decode(column: "role", as: MemberRole.self),
                memberCount: try row.decode(column: "member_count", as: Int.self),
                theme: ChatTheme(json: try row.decode(column: "theme", as: String?.self))
            )
            return ConversationRow(view: view, activityMicroseconds: try row.decode(column: "activity_at", as: Int64.self))
        }
    }
}

/// A conversation view and the sort key its list is paged by.
struct ConversationRow: Sendable {
    var view: Conversation
    var activityMicroseconds: Int64
}

extension Date {
    /// Whole microseconds since 1970: an integer, so that keyset cursors compare exactly on both databases.
    var microseconds: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
}
