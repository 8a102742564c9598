import Auth
import Foundation
import Models

// The one place where Models types become the generated `Components.Schemas` types of openapi.yaml.

extension Components.Schemas.User {
    init(_ user: Models.User) {
        self.init(
            id: user.id.lowercased,
            username: user.username,
            displayName: user.displayName,
            email: user.email,
            bio: user.bio.isEmpty ? nil : user.bio,
            avatarUrl: user.avatarURL,
            createdAt: user.createdAt
        )
    }
}

extension Components.Schemas.Session {
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
    init(_ user: Models.User, session: Models.Session, accessToken: String, refreshToken: String) {
        self.init(
            user: .init(user),
            accessToken: accessToken,
            refreshToken: refreshToken,
            expiresIn: Int(AccessTokens.lifetime),
            sessionId: session.id.lowercased
        )
    }
}
