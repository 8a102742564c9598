import Foundation

// The `data` of each logged event, shaped exactly as the schema of the same name in openapi.yaml
// (a test reads every event type back through the generated client). Ids are lower-case strings.

extension EventType {
    public static let messageCreated = EventType(rawValue: "message.created")
    public static let messageUpdated = EventType(rawValue: "message.updated")
    public static let messageDeleted = EventType(rawValue: "message.deleted")
    public static let reactionAdded = EventType(rawValue: "reaction.added")
    public static let reactionRemoved = EventType(rawValue: "reaction.removed")
    public static let receiptUpdated = EventType(rawValue: "receipt.updated")
    public static let conversationCreated = EventType(rawValue: "conversation.created")
    public static let conversationUpdated = EventType(rawValue: "conversation.updated")
    public static let conversationDeleted = EventType(rawValue: "conversation.deleted")
    public static let memberAdded = EventType(rawValue: "member.added")
    public static let memberRemoved = EventType(rawValue: "member.removed")
    public static let memberUpdated = EventType(rawValue: "member.updated")
    /// In the user's own stream: they joined a conversation (created, added, or opened a direct one).
    public static let conversationJoined = EventType(rawValue: "conversation.joined")
    /// In the user's own stream: they left, were removed, or the conversation was deleted.
    public static let conversationLeft = EventType(rawValue: "conversation.left")
    public static let contactAdded = EventType(rawValue: "contact.added")
    public static let contactUpdated = EventType(rawValue: "contact.updated")
    public static let contactRemoved = EventType(rawValue: "contact.removed")

    /// Every type the server logs; the specs must declare each.
    public static let all: [EventType] = [
        .messageCreated, .messageUpdated, .messageDeleted, .reactionAdded, .reactionRemoved, .receiptUpdated,
        .conversationCreated, .conversationUpdated, .conversationDeleted, .memberAdded, .memberRemoved, .memberUpdated,
        .conversationJoined, .conversationLeft, .contactAdded, .contactUpdated, .contactRemoved, .userUpdated, .sessionRevoked,
    ]
}

/// `PublicUser`.
public struct PublicUserPayload: Codable, Sendable, Equatable {
    public var id: String
    public var username: String
    public var displayName: String
    public var bio: String?
    public var avatarUrl: String?
    public var createdAt: Date
    public var lastSeenAt: Date?

    public init(_ user: PublicUser) {
        id = user.id.lowercased
        username = user.username
        displayName = user.displayName
        bio = user.bio.isEmpty ? nil : user.bio
        avatarUrl = user.avatarURL
        createdAt = user.createdAt
        lastSeenAt = user.lastSeenAt
    }
}

/// `Message`, with the reactions of nobody in particular (`me` is always false).
public struct MessagePayload: Codable, Sendable, Equatable {
    public struct Reaction: Codable, Sendable, Equatable {
        public var emoji: String
        public var count: Int
        public var me: Bool
    }

    public var id: String
    public var conversationId: String
    public var seq: Int64
    public var senderId: String
    public var body: String?
    public var clientMessageId: String
    public var replyToId: String?
    public var createdAt: Date
    public var editedAt: Date?
    public var deleted: Bool
    public var reactions: [Reaction]

    public init(_ message: Message) {
        id = message.id.lowercased
        conversationId = message.conversationID.lowercased
        seq = message.seq
        senderId = message.senderID.lowercased
        body = message.body
        clientMessageId = message.clientMessageID
        replyToId = message.replyToID?.lowercased
        createdAt = message.createdAt
        editedAt = message.editedAt
        deleted = message.isDeleted
        reactions = message.reactions.map { Reaction(emoji: $0.emoji, count: $0.count, me: false) }
    }
}

/// `MessageUpdatedData`.
public struct MessageUpdatedPayload: Codable, Sendable, Equatable {
    public var id: String
    public var conversationId: String
    public var seq: Int64
    public var body: String
    public var editedAt: Date

    public init(id: UUID, conversationID: UUID, seq: Int64, body: String, editedAt: Date) {
        self.id = id.lowercased
        self.conversationId = conversationID.lowercased
        self.seq = seq
        self.body = body
        self.editedAt = editedAt
    }
}

/// `MessageDeletedData`.
public struct MessageDeletedPayload: Codable, Sendable, Equatable {
    public var id: String
    public var conversationId: String
    public var seq: Int64
    public var deletedBy: String

    public init(id: UUID, conversationID: UUID, seq: Int64, deletedBy: UUID) {
        self.id = id.lowercased
        self.conversationId = conversationID.lowercased
        self.seq = seq
        self.deletedBy = deletedBy.lowercased
    }
}

/// `ReactionData`: one user's emoji on one message, added or removed.
public struct ReactionPayload: Codable, Sendable, Equatable {
    public var messageId: String
    public var conversationId: String
    public var messageSeq: Int64
    public var userId: String
    public var emoji: String

    public init(messageID: UUID, conversationID: UUID, messageSeq: Int64, userID: UUID, emoji: String) {
        self.messageId = messageID.lowercased
        self.conversationId = conversationID.lowercased
        self.messageSeq = messageSeq
        self.userId = userID.lowercased
        self.emoji = emoji
    }
}

/// `ReceiptData`.
public struct ReceiptPayload: Codable, Sendable, Equatable {
    public var conversationId: String
    public var userId: String
    public var lastReadSeq: Int64

    public init(conversationID: UUID, userID: UUID, lastReadSeq: Int64) {
        self.conversationId = conversationID.lowercased
        self.userId = userID.lowercased
        self.lastReadSeq = lastReadSeq
    }
}

/// `ConversationData`: a conversation as everyone sees it (no viewer-specific fields).
public struct ConversationPayload: Codable, Sendable, Equatable {
    public var id: String
    public var kind: ConversationKind
    /// Groups only; a direct conversation's title depends on who looks.
    public var title: String?
    public var description: String?
    public var iconUrl: String?
    public var createdAt: Date
    public var createdBy: String
    public var memberCount: Int

    public init(
        id: UUID,
        kind: ConversationKind,
        title: String?,
        description: String?,
        iconURL: String?,
        createdAt: Date,
        createdBy: UUID,
        memberCount: Int
    ) {
        self.id = id.lowercased
        self.kind = kind
        self.title = kind == .group ? title : nil
        self.description = description.flatMap { $0.isEmpty ? nil : $0 }
        self.iconUrl = iconURL
        self.createdAt = createdAt
        self.createdBy = createdBy.lowercased
        self.memberCount = memberCount
    }
}

/// `ConversationDeletedData`.
public struct ConversationDeletedPayload: Codable, Sendable, Equatable {
    public var id: String
    public var deletedBy: String

    public init(id: UUID, deletedBy: UUID) {
        self.id = id.lowercased
        self.deletedBy = deletedBy.lowercased
    }
}

/// `MemberAddedData`.
public struct MemberAddedPayload: Codable, Sendable, Equatable {
    public var conversationId: String
    public var user: PublicUserPayload
    public var role: MemberRole
    public var joinedAt: Date
    public var addedBy: String

    public init(conversationID: UUID, user: PublicUser, role: MemberRole, joinedAt: Date, addedBy: UUID) {
        self.conversationId = conversationID.lowercased
        self.user = PublicUserPayload(user)
        self.role = role
        self.joinedAt = joinedAt
        self.addedBy = addedBy.lowercased
    }
}

/// Why a member is no longer in a conversation.
public enum DepartureReason: String, Codable, Sendable {
    case left
    case removed
    case deleted
}

/// `MemberRemovedData`.
public struct MemberRemovedPayload: Codable, Sendable, Equatable {
    public var conversationId: String
    public var userId: String
    public var removedBy: String
    public var reason: DepartureReason

    public init(conversationID: UUID, userID: UUID, removedBy: UUID, reason: DepartureReason) {
        self.conversationId = conversationID.lowercased
        self.userId = userID.lowercased
        self.removedBy = removedBy.lowercased
        self.reason = reason
    }
}

/// `MemberUpdatedData`.
public struct MemberUpdatedPayload: Codable, Sendable, Equatable {
    public var conversationId: String
    public var userId: String
    public var role: MemberRole
    public var changedBy: String

    public init(conversationID: UUID, userID: UUID, role: MemberRole, changedBy: UUID) {
        self.conversationId = conversationID.lowercased
        self.userId = userID.lowercased
        self.role = role
        self.changedBy = changedBy.lowercased
    }
}

/// `ConversationJoinedData`, in the joining user's stream.
public struct ConversationJoinedPayload: Codable, Sendable, Equatable {
    public var conversation: ConversationPayload
    public var role: MemberRole

    public init(conversation: ConversationPayload, role: MemberRole) {
        self.conversation = conversation
        self.role = role
    }
}

/// `ConversationLeftData`, in the departing user's stream.
public struct ConversationLeftPayload: Codable, Sendable, Equatable {
    public var conversationId: String
    public var reason: DepartureReason

    public init(conversationID: UUID, reason: DepartureReason) {
        self.conversationId = conversationID.lowercased
        self.reason = reason
    }
}

/// `Contact`, for `contact.added` and `contact.updated`.
public struct ContactPayload: Codable, Sendable, Equatable {
    public var user: PublicUserPayload
    public var nickname: String?
    public var addedAt: Date

    public init(_ contact: Contact) {
        user = PublicUserPayload(contact.user)
        nickname = contact.nickname
        addedAt = contact.addedAt
    }
}

/// `ContactRemovedData`.
public struct ContactRemovedPayload: Codable, Sendable, Equatable {
    public var userId: String

    public init(userID: UUID) {
        self.userId = userID.lowercased
    }
}
