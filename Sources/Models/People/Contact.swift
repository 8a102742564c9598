package import Foundation

/// Someone in the owner's address book: the `Contact` schema, and the data of `contact.added` and
/// `contact.updated`.
package struct Contact: Codable, Hashable, Sendable {
    package var user: PublicUser
    package var nickname: String?
    package var addedAt: Date

    package init(user: PublicUser, nickname: String?, addedAt: Date) {
        self.user = user
        self.nickname = nickname
        self.addedAt = addedAt
    }
}

/// Someone the owner has blocked: the `Block` schema.
package struct Block: Codable, Hashable, Sendable {
    package var user: PublicUser
    package var blockedAt: Date

    package init(user: PublicUser, blockedAt: Date) {
        self.user = user
        self.blockedAt = blockedAt
    }
}
