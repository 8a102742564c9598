import Foundation
import Models

// The wire shapes that Models does not define as they are, because they depend on who asks.

extension Components.Schemas.Session {
    /// A session as its owner lists it; `current` marks the one making the request.
    init(_ session: Models.Session, current: Bool) {
        self.init(
            id: session.id.lowercased,
            deviceName: session.deviceName,
            userAgent: session.userAgent,
            createdAt: session.createdAt,
            lastUsedAt: session.lastUsedAt,
            current: current
        )
    }
}

extension Components.Schemas.AuthSession {
    /// What registering or signing in answers: the user, the new session's id and its tokens.
    init(_ user: Models.User, session: Models.Session, accessToken: String, refreshToken: String, expiresIn: TimeInterval) {
        self.init(
            user: user,
            accessToken: accessToken,
            refreshToken: refreshToken,
            expiresIn: Int(expiresIn),
            sessionId: session.id.lowercased
        )
    }
}
