import Foundation

/// An account as its owner sees it.
public struct User: Sendable, Equatable {
    public var id: UUID
    /// Lower case, 3-32 characters of a-z, 0-9, `_` and `.`.
    public var username: String
    public var displayName: String
    public var email: String
    /// Empty when the user wrote none.
    public var bio: String
    public var avatarURL: String?
    public var createdAt: Date

    public init(
        id: UUID,
        username: String,
        displayName: String,
        email: String,
        bio: String = "",
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
}

/// A signed-in device: one chain of refresh tokens and the access tokens minted from it.
public struct Session: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    public var deviceName: String?
    public var userAgent: String?
    public var createdAt: Date
    public var lastUsedAt: Date

    public init(id: UUID, userID: UUID, deviceName: String?, userAgent: String?, createdAt: Date, lastUsedAt: Date) {
        self.id = id
        self.userID = userID
        self.deviceName = deviceName
        self.userAgent = userAgent
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
