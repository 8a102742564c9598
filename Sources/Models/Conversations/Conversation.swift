package import Foundation

/// A conversation as one of its members sees it: the `Conversation` schema of openapi.yaml.
package struct Conversation: Codable, Hashable, Sendable {
    package var id: UUID
    package var kind: ConversationKind
    /// The group's title, or for a direct conversation the other person's display name.
    package var title: String
    package var description: String?
    package var iconURL: String?
    package var createdAt: Date
    package var lastSeq: Int64
    package var lastMessage: Message?
    package var unreadCount: Int
    /// Unread notifications that name the viewer (`mention`) in this conversation.
    package var mentionCount: Int
    package var myRole: MemberRole
    package var memberCount: Int
    /// How it looks to every member; nil for the clients' own default.
    package var theme: ChatTheme?

    package init(
        id: UUID,
        kind: ConversationKind,
        title: String,
        description: String?,
        iconURL: String?,
        createdAt: Date,
        lastSeq: Int64,
        lastMessage: Message?,
        unreadCount: Int,
        mentionCount: Int = 0,
        myRole: MemberRole,
        memberCount: Int,
        theme: ChatTheme? = nil
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
        self.mentionCount = mentionCount
        self.myRole = myRole
        self.memberCount = memberCount
        self.theme = theme
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, title, description, createdAt, lastSeq, lastMessage, unreadCount, mentionCount, myRole, memberCount, theme
        case iconURL = "iconUrl"
    }
}

/// A conversation as every member sees it, with no viewer's fields: the `ConversationData` schema,
/// the data of `conversation.created` and `conversation.updated`.
package struct ConversationData: Codable, Hashable, Sendable {
    package var id: UUID
    package var kind: ConversationKind
    /// Groups only; a direct conversation's title depends on who looks.
    package var title: String?
    package var description: String?
    package var iconURL: String?
    package var createdAt: Date
    package var createdBy: UUID
    package var memberCount: Int
    package var theme: ChatTheme?

    package init(
        id: UUID,
        kind: ConversationKind,
        title: String?,
        description: String?,
        iconURL: String?,
        createdAt: Date,
        createdBy: UUID,
        memberCount: Int,
        theme: ChatTheme? = nil
    ) {
        self.id = id
        self.kind = kind
        self.title = kind == .group ? title : nil
        self.description = description.flatMap { $0.isEmpty ? nil : $0 }
        self.iconURL = iconURL
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.memberCount = memberCount
        self.theme = theme
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, title, description, createdAt, createdBy, memberCount, theme
        case iconURL = "iconUrl"
    }
}
