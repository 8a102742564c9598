package import Foundation
import Logging
import Models
package import Store
import Synchronization

/// Turns a bearer token into an `Identity`: a valid signature and a live session.
///
/// Session liveness is cached for at most `sessionCheckInterval` (2 s), so a session revoked on any
/// node is refused everywhere within that time without a database read on every request. The node
/// that revokes a session forgets it at once.
package final class Authenticator: Sendable {
    /// How long a "this session is live" answer is trusted.
    package static let sessionCheckInterval: TimeInterval = 2
    /// How stale `lastUsedAt` may get before a request refreshes it.
    static let touchInterval: TimeInterval = 60

    package let tokens: AccessTokens
    private let store: Store
    private let now: @Sendable () -> Date
    private let liveSessions = Mutex<[UUID: (userID: UUID, checkedAt: Date)]>([:])

    package init(tokens: AccessTokens, store: Store, now: @escaping @Sendable () -> Date) {
        self.tokens = tokens
        self.store = store
        self.now = now
    }

    /// The identity proven by an `Authorization` header value (`Bearer <token>`), or `unauthorized`.
    package func authenticate(authorization: String?) async throws -> Identity {
        guard let authorization, let token = Self.bearerToken(in: authorization) else { throw Problem.unauthorized }
        return try await authenticate(token: token)
    }

    /// The identity proven by a bare access token, or `unauthorized`.
    package func authenticate(token: String) async throws -> Identity {
        let now = now()
        let identity: Identity
        do {
            identity = try await tokens.verify(token, now: now)
        } catch {
            throw Problem.unauthorized
        }
        guard try await isLive(identity, now: now) else { throw Problem.unauthorized }
        return identity
    }

    /// Whether the identity's session is still live, answered from the cache when it is fresh.
    package func isLive(_ identity: Identity, now: Date) async throws -> Bool {
        let cached = liveSessions.withLock { $0[identity.sessionID] }
        if let cached, cached.userID == identity.userID, now.timeIntervalSince(cached.checkedAt) < Self.sessionCheckInterval {
            return true
        }
        guard let status = try await store.sessionStatus(id: identity.sessionID), !status.isRevoked,
            status.userID == identity.userID, now.timeIntervalSince(status.createdAt) < store.sessions.absoluteLifetime
        else {
            sessionEnded(identity.sessionID)
            return false
        }
        if now.timeIntervalSince(status.lastUsedAt) > Self.touchInterval {
            try await store.touchSession(id: identity.sessionID, now: now)
        }
        liveSessions.withLock { sessions in
            if sessions.count > 100_000 {
                sessions = sessions.filter { now.timeIntervalSince($0.value.checkedAt) < Self.sessionCheckInterval }
            }
            sessions[identity.sessionID] = (identity.userID, now)
        }
        return true
    }

    /// Forgets a session this node has just revoked, so its tokens stop working here at once.
    package func sessionEnded(_ sessionID: UUID) {
        _ = liveSessions.withLock { $0.removeValue(forKey: sessionID) }
    }

    /// The token of a `Bearer` credential; the scheme is case-insensitive (RFC 9110 §11.1).
    static func bearerToken(in authorization: String) -> String? {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Spaces and tabs around the token are not part of it (RFC 9110 §5.5).
        let isBlank = { (character: Character) in character == " " || character == "\t" }
        guard let first = parts[1].firstIndex(where: { !isBlank($0) }), let last = parts[1].lastIndex(where: { !isBlank($0) }) else {
            return nil
        }
        return String(parts[1][first...last])
    }
}
