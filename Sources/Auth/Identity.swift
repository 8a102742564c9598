package import Foundation

/// Who an authenticated request or connection speaks for.
package struct Identity: Sendable, Equatable {
    package var userID: UUID
    package var sessionID: UUID
    /// When the access token that proved it expires.
    package var expiresAt: Date

    package init(userID: UUID, sessionID: UUID, expiresAt: Date) {
        self.userID = userID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
    }

    /// The identity of the request being handled, bound by the authenticating middleware.
    @TaskLocal package static var current: Identity?
}
