package import Foundation

/// An account as its owner sees it: the `User` schema of openapi.yaml and the data of `user.updated`.
package struct User: Codable, Hashable, Sendable {
    package var id: UUID
    /// Lower case, 3-32 characters of a-z, 0-9, `_` and `.`.
    package var username: String
    package var displayName: String
    package var email: String
    /// Whether the owner proved the address is theirs, with the link mailed to it.
    package var emailVerified: Bool
    /// Nil when the user wrote none.
    package var bio: String?
    package var avatarURL: String?
    package var createdAt: Date

    package init(
        id: UUID,
        username: String,
        displayName: String,
        email: String,
        emailVerified: Bool = false,
        bio: String? = nil,
        avatarURL: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.email = email
        self.emailVerified = emailVerified
        self.bio = bio
        self.avatarURL = avatarURL
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, username, displayName, email, emailVerified, bio, createdAt
        case avatarURL = "avatarUrl"
    }

    /// Reads events logged before `emailVerified` existed as unverified.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        username = try container.decode(String.self, forKey: .username)
        displayName = try container.decode(String.self, forKey: .displayName)
        email = try container.decode(String.self, forKey: .email)
        emailVerified = try container.decodeIfPresent(Bool.self, forKey: .emailVerified) ?? false
        bio = try container.decodeIfPresent(String.self, forKey: .bio)
        avatarURL = try container.decodeIfPresent(String.self, forKey: .avatarURL)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
    }
}
