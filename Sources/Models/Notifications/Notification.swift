package import Foundation

/// Why a user is told of something: the `NotificationKind` schema.
package enum NotificationKind: String, Codable, Hashable, Sendable, CaseIterable {
    /// Someone named them (`@username`, or `@all` from a group's admin or owner).
    case mention
    /// Someone replied to their message.
    case reply
    /// A new message in one of their direct conversations.
    case direct
    /// Someone added them to a group.
    case addedToGroup = "added_to_group"
}

/// One entry of a user's notification inbox: the `Notification` schema of openapi.yaml.
package struct InboxNotification: Codable, Hashable, Sendable {
    package var id: UUID
    package var kind: NotificationKind
    package var conversationID: UUID
    /// The message it is about; nil for `added_to_group`.
    package var messageID: UUID?
    /// Who caused it.
    package var actor: PublicUser
    /// The start of the message's text, as it was when the notification was made (or last edited).
    package var excerpt: String?
    package var createdAt: Date
    /// Nil while unread.
    package var readAt: Date?

    package init(
        id: UUID,
        kind: NotificationKind,
        conversationID: UUID,
        messageID: UUID?,
        actor: PublicUser,
        excerpt: String?,
        createdAt: Date,
        readAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.conversationID = conversationID
        self.messageID = messageID
        self.actor = actor
        self.excerpt = excerpt
        self.createdAt = createdAt
        self.readAt = readAt
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, actor, excerpt, createdAt, readAt
        case conversationID = "conversationId"
        case messageID = "messageId"
    }
}

/// The data of `notification.created`: the new notification and the recipient's unread count.
package struct NotificationCreatedData: Codable, Hashable, Sendable {
    package var notification: InboxNotification
    package var unreadCount: Int

    package init(notification: InboxNotification, unreadCount: Int) {
        self.notification = notification
        self.unreadCount = unreadCount
    }
}

/// The data of `notifications.read` and `notifications.removed`: which of the user's notifications
/// were read (or went with their message), and the unread count after.
package struct NotificationsChangedData: Codable, Hashable, Sendable {
    package var ids: [UUID]
    package var unreadCount: Int

    package init(ids: [UUID], unreadCount: Int) {
        self.ids = ids
        self.unreadCount = unreadCount
    }
}

/// A page of the inbox: the `NotificationPage` schema.
package struct NotificationPage: Codable, Hashable, Sendable {
    package var items: [InboxNotification]
    package var nextCursor: String?
    package var unreadCount: Int

    package init(items: [InboxNotification], nextCursor: String?, unreadCount: Int) {
        self.items = items
        self.nextCursor = nextCursor
        self.unreadCount = unreadCount
    }
}
