import Foundation

/// What anyone may see of a user: never the email.
public struct PublicUser: Sendable, Equatable {
    public var id: UUID
    public var username: String
    public var displayName: String
    public var bio: String
    public var avatarURL: String?
    public var createdAt: Date
    /// When their last realtime connection closed; nil if never, or connected now.
    public var lastSeenAt: Date?

    public init(id: UUID, username: String, displayName: String, bio: String, avatarURL: String?, createdAt: Date, lastSeenAt: Date? = nil) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.bio = bio
        self.avatarURL = avatarURL
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// Someone in the owner's address book.
public struct Contact: Sendable, Equatable {
    public var user: PublicUser
    public var nickname: String?
    public var addedAt: Date

    public init(user: PublicUser, nickname: String?, addedAt: Date) {
        self.user = user
        self.nickname = nickname
        self.addedAt = addedAt
    }
}

/// Someone the owner has blocked.
public struct Block: Sendable, Equatable {
    public var user: PublicUser
    public var blockedAt: Date

    public init(user: PublicUser, blockedAt: Date) {
        self.user = user
        self.blockedAt = blockedAt
    }
}

/// Direct (two people, one conversation per pair) or group.
public enum ConversationKind: String, Sendable, Codable {
    case direct
    case group
}

/// A member's standing in a conversation, ordered: a member < an admin < the owner.
public enum MemberRole: String, Sendable, Codable, Comparable {
    case member
    case admin
    case owner

    private var rank: Int {
        switch self {
        case .member: 0
        case .admin: 1
        case .owner: 2
        }
    }

    public static func < (lhs: MemberRole, rhs: MemberRole) -> Bool { lhs.rank < rhs.rank }
}

/// One user's place in one conversation.
public struct Membership: Sendable, Equatable {
    public var conversationID: UUID
    public var kind: ConversationKind
    public var userID: UUID
    public var role: MemberRole
    public var joinedAt: Date
    public var lastReadSeq: Int64

    public init(conversationID: UUID, kind: ConversationKind, userID: UUID, role: MemberRole, joinedAt: Date, lastReadSeq: Int64) {
        self.conversationID = conversationID
        self.kind = kind
        self.userID = userID
        self.role = role
        self.joinedAt = joinedAt
        self.lastReadSeq = lastReadSeq
    }
}

/// A member as the member list shows them.
public struct Member: Sendable, Equatable {
    public var user: PublicUser
    public var role: MemberRole
    public var joinedAt: Date
    public var lastReadSeq: Int64

    public init(user: PublicUser, role: MemberRole, joinedAt: Date, lastReadSeq: Int64) {
        self.user = user
        self.role = role
        self.joinedAt = joinedAt
        self.lastReadSeq = lastReadSeq
    }
}

/// A conversation as one of its members sees it.
public struct ConversationView: Sendable, Equatable {
    public var id: UUID
    public var kind: ConversationKind
    /// The group's title, or for a direct conversation the other person's display name.
    public var title: String
    public var description: String
    public var iconURL: String?
    public var createdAt: Date
    public var lastSeq: Int64
    public var lastMessage: Message?
    public var unreadCount: Int
    public var myRole: MemberRole
    public var memberCount: Int

    public init(
        id: UUID,
        kind: ConversationKind,
        title: String,
        description: String,
        iconURL: String?,
        createdAt: Date,
        lastSeq: Int64,
        lastMessage: Message?,
        unreadCount: Int,
        myRole: MemberRole,
        memberCount: Int
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.description = description
        self.iconURL = iconURL
        self.createdAt = createdAt
        self.lastSeq = lastSeq
        self.lastMessage = lastMessage
        self.unreadCount = unreadCount
        self.myRole = myRole
        self.memberCount = memberCount
    }
}

/// A message, or the tombstone of a deleted one.
public struct Message: Sendable, Equatable {
    public var id: UUID
    public var conversationID: UUID
    /// Its position in the conversation's event stream.
    public var seq: Int64
    public var senderID: UUID
    /// Nil once deleted.
    public var body: String?
    public var clientMessageID: String
    public var replyToID: UUID?
    public var createdAt: Date
    public var editedAt: Date?
    public var isDeleted: Bool
    public var reactions: [ReactionSummary]

    public init(
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
        reactions: [ReactionSummary] = []
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
    }
}

/// One emoji's reactions to a message, as one viewer sees them.
public struct ReactionSummary: Sendable, Equatable {
    public var emoji: String
    public var count: Int
    /// Whether the viewer is among them.
    public var me: Bool

    public init(emoji: String, count: Int, me: Bool) {
        self.emoji = emoji
        self.count = count
        self.me = me
    }
}

/// A page of history and whether more lies beyond it.
public struct MessagePage: Sendable, Equatable {
    public var items: [Message]
    public var hasMore: Bool

    public init(items: [Message], hasMore: Bool) {
        self.items = items
        self.hasMore = hasMore
    }
}

/// One full-text match and its highlighted excerpt.
public struct SearchHit: Sendable, Equatable {
    public var message: Message
    /// Excerpt with matches between `SearchHit.highlightStart` and `highlightEnd`.
    public var snippet: String

    public init(message: Message, snippet: String) {
        self.message = message
        self.snippet = snippet
    }

    /// Marks the start of a match in a raw snippet (a private-use character, never in stored text).
    public static let highlightStart: Character = "\u{E000}"
    /// Marks the end of a match in a raw snippet.
    public static let highlightEnd: Character = "\u{E001}"
}

/// One page of a list and the cursor of the next, nil on the last page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension SearchHit {
    /// The snippet as HTML: its text escaped, its matches wrapped in `<mark>…</mark>`.
    public var htmlSnippet: String {
        var html = ""
        for character in snippet {
            switch character {
            case SearchHit.highlightStart: html += "<mark>"
            case SearchHit.highlightEnd: html += "</mark>"
            case "&": html += "&amp;"
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case "\"": html += "&quot;"
            case "'": html += "&#39;"
            default: html.append(character)
            }
        }
        return html
    }
}
