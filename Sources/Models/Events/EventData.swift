package import Foundation

// The `data` of the logged events whose payload is not a shape of its own (`Message`, `Contact`,
// `User`, `ConversationData`), each named and shaped as the schema of the same name in openapi.yaml.

/// The data of `message.updated`.
package struct MessageUpdatedData: Codable, Hashable, Sendable {
    package var id: UUID
    package var conversationID: UUID
    package var seq: Int64
    /// The message's text as it is now — a later edit rewrites it here too — and absent once the
    /// message is deleted: no event keeps a text its sender has since replaced or deleted.
    package var body: String?
    package var editedAt: Date
    /// Whom the text names now, and whether `@all` counts — like `body`, as the message is now.
    package var mentions: [UUID]
    package var mentionsAll: Bool

    package init(id: UUID, conversationID: UUID, seq: Int64, body: String?, editedAt: Date, mentions: [UUID] = [], mentionsAll: Bool = false) {
        self.id = id
        self.conversationID = conversationID
        self.seq = seq
        self.body = body
        self.editedAt = editedAt
        self.mentions = mentions
        self.mentionsAll = mentionsAll
    }

    /// Reads the data, also of an edit logged before messages had mentions.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        conversationID = try container.decode(UUID.self, forKey: .conversationID)
        seq = try container.decode(Int64.self, forKey: .seq)
        body = try container.decodeIfPresent(String.self, forKey: .body)
        editedAt = try container.decode(Date.self, forKey: .editedAt)
        mentions = try container.decodeIfPresent([UUID].self, forKey: .mentions) ?? []
        mentionsAll = try container.decodeIfPresent(Bool.self, forKey: .mentionsAll) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case id, seq, body, editedAt, mentions, mentionsAll
        case conversationID = "conversationId"
    }
}

/// The data of `message.deleted`.
package struct MessageDeletedData: Codable, Hashable, Sendable {
    package var id: UUID
    package var conversationID: UUID
    package var seq: Int64
    package var deletedBy: UUID

    package init(id: UUID, conversationID: UUID, seq: Int64, deletedBy: UUID) {
        self.id = id
        self.conversationID = conversationID
        self.seq = seq
        self.deletedBy = deletedBy
    }

    enum CodingKeys: String, CodingKey {
        case id, seq, deletedBy
        case conversationID = "conversationId"
    }
}

/// The data of `reaction.added` and `reaction.removed`: one user's emoji on one message.
package struct ReactionData: Codable, Hashable, Sendable {
    package var messageID: UUID
    package var conversationID: UUID
    package var messageSeq: Int64
    package var userID: UUID
    package var emoji: String

    package init(messageID: UUID, conversationID: UUID, messageSeq: Int64, userID: UUID, emoji: String) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.messageSeq = messageSeq
        self.userID = userID
        self.emoji = emoji
    }

    enum CodingKeys: String, CodingKey {
        case messageSeq, emoji
        case messageID = "messageId"
        case conversationID = "conversationId"
        case userID = "userId"
    }
}

/// The data of `receipt.updated`.
package struct ReceiptData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var userID: UUID
    package var lastReadSeq: Int64

    package init(conversationID: UUID, userID: UUID, lastReadSeq: Int64) {
        self.conversationID = conversationID
        self.userID = userID
        self.lastReadSeq = lastReadSeq
    }

    enum CodingKeys: String, CodingKey {
        case lastReadSeq
        case conversationID = "conversationId"
        case userID = "userId"
    }
}

/// The data of `conversation.deleted`.
package struct ConversationDeletedData: Codable, Hashable, Sendable {
    package var id: UUID
    package var deletedBy: UUID

    package init(id: UUID, deletedBy: UUID) {
        self.id = id
        self.deletedBy = deletedBy
    }
}

/// The data of `member.added`.
package struct MemberAddedData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var user: PublicUser
    package var role: MemberRole
    package var joinedAt: Date
    package var addedBy: UUID

    package init(conversationID: UUID, user: PublicUser, role: MemberRole, joinedAt: Date, addedBy: UUID) {
        self.conversationID = conversationID
        self.user = user
        self.role = role
        self.joinedAt = joinedAt
        self.addedBy = addedBy
    }

    enum CodingKeys: String, CodingKey {
        case user, role, joinedAt, addedBy
        case conversationID = "conversationId"
    }
}

/// Why a member is no longer in a conversation: the `DepartureReason` schema.
package enum DepartureReason: String, Codable, Hashable, Sendable {
    case left
    case removed
    case deleted
}

/// The data of `member.removed`.
package struct MemberRemovedData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var userID: UUID
    package var removedBy: UUID
    package var reason: DepartureReason

    package init(conversationID: UUID, userID: UUID, removedBy: UUID, reason: DepartureReason) {
        self.conversationID = conversationID
        self.userID = userID
        self.removedBy = removedBy
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case removedBy, reason
        case conversationID = "conversationId"
        case userID = "userId"
    }
}

/// The data of `member.updated`.
package struct MemberUpdatedData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var userID: UUID
    package var role: MemberRole
    package var changedBy: UUID

    package init(conversationID: UUID, userID: UUID, role: MemberRole, changedBy: UUID) {
        self.conversationID = conversationID
        self.userID = userID
        self.role = role
        self.changedBy = changedBy
    }

    enum CodingKeys: String, CodingKey {
        case role, changedBy
        case conversationID = "conversationId"
        case userID = "userId"
    }
}

/// The data of `profile.updated`: a member's public profile as it is now (never `lastSeenAt`).
package struct ProfileUpdatedData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var user: PublicUser

    package init(conversationID: UUID, user: PublicUser) {
        self.conversationID = conversationID
        self.user = user
    }

    enum CodingKeys: String, CodingKey {
        case user
        case conversationID = "conversationId"
    }
}

/// The data of `conversation.joined`, in the joining user's own stream.
package struct ConversationJoinedData: Codable, Hashable, Sendable {
    package var conversation: ConversationData
    package var role: MemberRole
    /// The seq of the `member.added` event that added the user, in the conversation's stream: the
    /// user's connections deliver that stream from this event on. Absent in events logged before
    /// Parley recorded it.
    package var joinedAtSeq: Int64?

    package init(conversation: ConversationData, role: MemberRole, joinedAtSeq: Int64?) {
        self.conversation = conversation
        self.role = role
        self.joinedAtSeq = joinedAtSeq
    }
}

/// The data of `conversation.left`, in the departing user's own stream.
package struct ConversationLeftData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var reason: DepartureReason

    package init(conversationID: UUID, reason: DepartureReason) {
        self.conversationID = conversationID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case conversationID = "conversationId"
    }
}

/// The data of `conversation.preferences.updated`, in the user's own stream: their settings of
/// one conversation, all of them as they are now.
package struct ConversationPreferencesUpdatedData: Codable, Hashable, Sendable {
    package var conversationID: UUID
    package var preferences: ConversationPreferences

    package init(conversationID: UUID, preferences: ConversationPreferences) {
        self.conversationID = conversationID
        self.preferences = preferences
    }

    enum CodingKeys: String, CodingKey {
        case preferences
        case conversationID = "conversationId"
    }
}

/// The data of `contact.removed`.
package struct ContactRemovedData: Codable, Hashable, Sendable {
    package var userID: UUID

    package init(userID: UUID) {
        self.userID = userID
    }

    enum CodingKeys: String, CodingKey {
        case userID = "userId"
    }
}

/// The data of `session.revoked`.
package struct SessionRevokedData: Codable, Hashable, Sendable {
    /// Why the session ended.
    package enum Reason: String, Codable, Hashable, Sendable {
        case logout
        case revoked
        case passwordChanged = "password_changed"
        case passwordReset = "password_reset"
        case refreshTokenReuse = "refresh_token_reuse"
        case accountDeleted = "account_deleted"
    }

    package var sessionID: UUID
    package var reason: Reason

    package init(sessionID: UUID, reason: Reason) {
        self.sessionID = sessionID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case sessionID = "sessionId"
    }
}
