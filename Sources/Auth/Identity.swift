import Foundation

/// Who an authenticated request or connection speaks for.
public struct Identity: Sendable, Equatable {
    public var userID: UUID
    public var sessionID: UUID
    /// When the access token that proved it expires.
    public var expiresAt: Date

    public init(userID: UUID, sessionID: UUID, expiresAt: Date) {
        self.userID = userID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
    }

    /// The identity of the request being handled, bound by the authenticating middleware.
    @TaskLocal public static var current: Identity?
}
