package import Foundation

/// What anyone may see of a user — never the email: the `PublicUser` schema of openapi.yaml.
package struct PublicUser: Codable, Hashable, Sendable {
    package var id: UUID
    package var username: String
    package var displayName: String
    /// Nil when the user wrote none.
    package var bio: String?
    package var avatarURL: String?
    package var createdAt: Date
    /// When their last realtime connection closed; nil if never, or connected now.
    package var lastSeenAt: Date?
    /// True for a deleted account (shown as "Deleted user"); nil otherwise, so it is left out.
    package var deleted: Bool?

    package init(
        id: UUID,
        username: String,
        displayName: String,
        bio: String? = nil,
        avatarURL: String? = nil,
        createdAt: Date,
        lastSeenAt: Date? = nil,
        deleted: Bool = false
    ) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.bio = bio
        self.avatarURL = avatarURL
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.deleted = deleted ? true : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, username, displayName, bio, createdAt, lastSeenAt, deleted
        case avatarURL = "avatarUrl"
    }
}
