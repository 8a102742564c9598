package import Foundation

/// A message, or the tombstone of a deleted one: the `Message` schema of openapi.yaml and the data
/// of `message.created`.
package struct Message: Codable, Hashable, Sendable {
    package var id: UUID
    package var conversationID: UUID
    /// Its position in the conversation's event stream.
    package var seq: Int64
    package var senderID: UUID
    /// Nil once deleted.
    package var body: String?
    package var clientMessageID: String
    package var replyToID: UUID?
    package var createdAt: Date
    package var editedAt: Date?
    package var isDeleted: Bool
    /// As one viewer sees them; in events, as nobody in particular does (`me` is false).
    package var reactions: [Reaction]
    /// Images, in the order sent; none once deleted.
    package var attachments: [Attachment]
    /// The members its text names with `@username`, as of its last edit; none once deleted.
    package var mentions: [UUID]
    /// Whether it says `@all` and counts as naming every member (a group's admin or owner wrote it).
    package var mentionsAll: Bool

    package init(
        id: UUID,
        conversationID: UUID,
        seq: Int64,
        senderID: UUID,
        body: String?,
        clientMessageID: String,
        replyToID: UUID?,
        createdAt: Date,
        editedAt: Date?,
        isDeleted: Bool,
        reactions: [Reaction] = [],
        attachments: [Attachment] = [],
        mentions: [UUID] = [],
        mentionsAll: Bool = false
    ) {
        self.id = id
        self.conversationID = conversationID
        self.seq = seq
        self.senderID = senderID
        self.body = body
        self.clientMessageID = clientMessageID
        self.replyToID = replyToID
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.isDeleted = isDeleted
        self.reactions = reactions
        self.attachments = attachments
        self.mentions = mentions
        self.mentionsAll = mentionsAll
    }

    /// Reads a message, also one logged before messages had attachments or mentions.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        conversationID = try container.decode(UUID.self, forKey: .conversationID)
        seq = try container.decode(Int64.self, forKey: .seq)
        senderID = try container.decode(UUID.self, forKey: .senderID)
        body = try container.decodeIfPresent(String.self, forKey: .body)
        clientMessageID = try container.decode(String.self, forKey: .clientMessageID)
        replyToID = try container.decodeIfPresent(UUID.self, forKey: .replyToID)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        editedAt = try container.decodeIfPresent(Date.self, forKey: .editedAt)
        isDeleted = try container.decode(Bool.self, forKey: .isDeleted)
        reactions = try container.decode([Reaction].self, forKey: .reactions)
        attachments = try container.decodeIfPresent([Attachment].self, forKey: .attachments) ?? []
        mentions = try container.decodeIfPresent([UUID].self, forKey: .mentions) ?? []
        mentionsAll = try container.decodeIfPresent(Bool.self, forKey: .mentionsAll) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case id, seq, body, createdAt, editedAt, reactions, attachments, mentions, mentionsAll
        case conversationID = "conversationId"
        case senderID = "senderId"
        case clientMessageID = "clientMessageId"
        case replyToID = "replyToId"
        case isDeleted = "deleted"
    }
}

/// One emoji's reactions to a message, as one viewer sees them: the `Reaction` schema.
package struct Reaction: Codable, Hashable, Sendable {
    package var emoji: String
    package var count: Int
    /// Whether the viewer is among them.
    package var me: Bool

    package init(emoji: String, count: Int, me: Bool) {
        self.emoji = emoji
        self.count = count
        self.me = me
    }
}

/// A page of history and whether more lies beyond it: the `MessagePage` schema.
package struct MessagePage: Codable, Hashable, Sendable {
    package var items: [Message]
    package var hasMore: Bool

    package init(items: [Message], hasMore: Bool) {
        self.items = items
        self.hasMore = hasMore
    }
}
