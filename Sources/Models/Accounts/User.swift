package import Foundation

/// An account as its owner sees it: the `User` schema of openapi.yaml and the data of `user.updated`.
package struct User: Codable, Hashable, Sendable {
    package var id: UUID
    /// Lower case, 3-32 characters of a-z, 0-9, `_` and `.`.
    package var username: String
    package var displayName: String
    package var email: String
    /// Nil when the user wrote none.
    package var bio: String?
    package var avatarURL: String?
    package var createdAt: Date

    package init(
        id: UUID,
        username: String,
        displayName: String,
        email: String,
        bio: String? = nil,
        avatarURL: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.email = email
        self.bio = bio
        self.avatarURL = avatarURL
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, username, displayName, email, bio, createdAt
        case avatarURL = "avatarUrl"
    }
}
