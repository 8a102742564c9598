package import Foundation

/// A browser's Web Push subscription, as the API shows it: the `PushSubscription` schema.
package struct PushSubscription: Codable, Hashable, Sendable {
    package var id: UUID
    package var endpoint: String
    package var createdAt: Date

    package init(id: UUID, endpoint: String, createdAt: Date) {
        self.id = id
        self.endpoint = endpoint
        self.createdAt = createdAt
    }
}

/// What a push shows — and all it carries: the `PushPayload` schema, under 4 KiB.
package struct PushPayload: Codable, Hashable, Sendable {
    package var title: String
    package var body: String?
    package var kind: NotificationKind
    package var notificationID: UUID
    package var conversationID: UUID
    /// Where the web page opens it.
    package var url: String

    package init(title: String, body: String?, kind: NotificationKind, notificationID: UUID, conversationID: UUID, url: String) {
        self.title = title
        self.body = body
        self.kind = kind
        self.notificationID = notificationID
        self.conversationID = conversationID
        self.url = url
    }

    enum CodingKeys: String, CodingKey {
        case title, body, kind, url
        case notificationID = "notificationId"
        case conversationID = "conversationId"
    }
}
