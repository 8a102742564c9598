package import Foundation
package import Models
import SQLKit

/// A change to one member's settings of one conversation; nil leaves a setting as it is, `.some(nil)`
/// returns it to the default (their default level, not muted, the shared theme).
package struct ConversationPreferencesUpdate: Sendable {
    package var notifications: NotificationLevel??
    package var mutedUntil: Date??
    package var theme: ChatTheme??

    package init(notifications: NotificationLevel?? = nil, mutedUntil: Date?? = nil, theme: ChatTheme?? = nil) {
        self.notifications = notifications
        self.mutedUntil = mutedUntil
        self.theme = theme
    }
}

extension Store {
    /// The member's settings of a conversation.
    package func conversationPreferences(of userID: UUID, in conversationID: UUID) async throws -> ConversationPreferences {
        try await read { sql in
            let membership = try await sql.authorize(userID, in: conversationID)
            return try await sql.conversationPreferences(of: membership)
        }
    }

    /// Changes the member's settings of a conversation and, when anything changed, appends
    /// `conversation.preferences.updated` to their stream, so their other devices follow.
    package func updateConversationPreferences(
        of userID: UUID,
        in conversationID: UUID,
        _ update: ConversationPreferencesUpdate,
        now: Date
    ) async throws -> ConversationPreferences {
        try await write { transaction in
            let membership = try await transaction.sql.authorize(userID, in: conversationID)
            let before = try await transaction.sql.conversationPreferences(of: membership)
            var assignments: [SQLQueryString] = []
            if let level = update.notifications { assignments.append("notify_level = \(bind: level?.rawValue)") }
            if let mutedUntil = update.mutedUntil { assignments.append("muted_until = \(bind: mutedUntil)") }
            if let theme = update.theme {
                assignments.append("theme = \(bind: try theme.map { try WireJSON.text($0) })")
            }
            if !assignments.isEmpty {
                let list = assignments.dropFirst().reduce(assignments[0]) { $0 + ", " + $1 }
                try await transaction.sql.raw(
                    "UPDATE members SET " + list + " WHERE conversation_id = \(bind: conversationID) AND user_id = \(bind: userID)"
                ).run()
            }
            let after = try await transaction.sql.conversationPreferences(of: membership)
            if after != before {
                try await transaction.append(
                    to: .user(userID),
                    .conversationPreferencesUpdated(ConversationPreferencesUpdatedData(conversationID: conversationID, preferences: after)),
                    at: now
                )
            }
            return after
        }
    }

    /// Sets (nil: removes) a conversation's shared theme — a group's admins and owner, either
    /// member of a direct conversation — and appends `conversation.updated`.
    package func setTheme(of conversationID: UUID, to theme: ChatTheme?, by actorID: UUID, now: Date) async throws -> Conversation {
        try await write { transaction in
            try await transaction.lockConversation(conversationID)
            let membership = try await transaction.sql.authorize(actorID, in: conversationID)
            guard membership.kind == .direct || membership.role >= .admin else {
                throw Problem.forbidden("Only the group's admins may change its theme.")
            }
            let json = try theme.map { try WireJSON.text($0) }
            try await transaction.sql.raw("UPDATE conversations SET theme = \(bind: json) WHERE id = \(bind: conversationID)").run()
            try await transaction.append(
                to: .conversation(conversationID),
                .conversationUpdated(try await transaction.conversationData(conversationID)),
                at: now
            )
        }
        guard let view = try await conversation(conversationID, viewer: actorID) else { throw Problem.notFound("No such conversation.") }
        return view
    }
}

extension SQLDatabase {
    func conversationPreferences(of membership: Membership) async throws -> ConversationPreferences {
        let row = try await raw(
            """
            SELECT m.notify_level, m.muted_until, m.theme FROM members m
            WHERE m.conversation_id = \(bind: membership.conversationID) AND m.user_id = \(bind: membership.userID)
            """
        ).first()
        let own = try row?.decode(column: "notify_level", as: String?.self).flatMap(NotificationLevel.init(rawValue:))
        let defaults = try await preferences(of: membership.userID)?.notifications ?? NotificationPreferences()
        return ConversationPreferences(
            notifications: own ?? (membership.kind == .direct ? defaults.direct : defaults.groups),
            custom: own != nil,
            mutedUntil: try row?.decode(column: "muted_until", as: Date?.self),
            theme: ChatTheme(json: try row?.decode(column: "theme", as: String?.self))
        )
    }
}

extension ChatTheme {
    /// A theme from the JSON a column keeps; nil for none (or one this build cannot read).
    init?(json: String?) {
        guard let json, let theme = try? WireJSON.decoder.decode(ChatTheme.self, from: Data(json.utf8)) else { return nil }
        self = theme
    }
}
