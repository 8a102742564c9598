package import Foundation
package import Models
import SQLKit

/// A session about to be created, with the hash of its first refresh token.
package struct NewSession: Sendable {
    package var deviceName: String?
    package var userAgent: String?
    package var refreshToken: RefreshTokenRecord

    package init(deviceName: String?, userAgent: String?, refreshToken: RefreshTokenRecord) {
        self.deviceName = deviceName
        self.userAgent = userAgent
        self.refreshToken = refreshToken
    }
}

/// A refresh token as stored: only its hash, never the token.
package struct RefreshTokenRecord: Sendable {
    package var hash: String
    package var expiresAt: Date

    package init(hash: String, expiresAt: Date) {
        self.hash = hash
        self.expiresAt = expiresAt
    }
}

/// How long a signed-in device stays signed in.
package struct SessionPolicy: Sendable {
    /// A session unused this long is over: its last refresh token has expired.
    package var idleLifetime: TimeInterval
    /// A session this old is over however much it is used: its owner signs in again.
    package var absoluteLifetime: TimeInterval
    /// A refresh token presented again this soon after it was spent — a client retrying a request
    /// whose answer it lost — gets the same successor instead of revoking the session.
    package var retryGrace: TimeInterval

    package init(idleLifetime: TimeInterval = 30 * 24 * 3600, absoluteLifetime: TimeInterval = 90 * 24 * 3600, retryGrace: TimeInterval = 10) {
        self.idleLifetime = idleLifetime
        self.absoluteLifetime = absoluteLifetime
        self.retryGrace = retryGrace
    }
}

/// Whether a session may still be used, as the authenticator sees it.
package struct SessionStatus: Sendable, Equatable {
    package var userID: UUID
    package var isRevoked: Bool
    package var createdAt: Date
    package var lastUsedAt: Date
}

/// What presenting a refresh token led to.
package enum RefreshOutcome: Sendable, Equatable {
    /// The token was live: it is now spent and its successor stored.
    case rotated(sessionID: UUID, userID: UUID)
    /// The token was spent moments ago, at `rotatedAt`, and its successor is still unused: a client retrying.
    case retried(sessionID: UUID, userID: UUID, rotatedAt: Date)
    /// The token was spent already: its session has just been revoked.
    case reused(sessionID: UUID)
    /// Unknown, expired, or of a revoked session.
    case invalid
}

extension Store {
    /// Opens a new session for a user who just proved who they are.
    package func createSession(userID: UUID, _ session: NewSession, now: Date) async throws -> Session {
        try await write { try await $0.insertSession(session, userID: userID, now: now) }
    }

    /// The user's live sessions, newest first: not revoked, used within their idle lifetime and
    /// younger than their absolute one.
    package func activeSessions(of userID: UUID, now: Date) async throws -> [Session] {
        let idleCutoff = now.addingTimeInterval(-sessions.idleLifetime)
        let ageCutoff = now.addingTimeInterval(-sessions.absoluteLifetime)
        return try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: SessionRow.columns) FROM sessions
                WHERE user_id = \(bind: userID) AND revoked_at IS NULL AND last_used_at > \(bind: idleCutoff)
                      AND created_at > \(bind: ageCutoff)
                ORDER BY created_at DESC, id
                """
            ).all().map { try SessionRow(row: $0).session }
        }
    }

    /// Whether the session exists and is live; what every authenticated request checks.
    package func sessionStatus(id: UUID) async throws -> SessionStatus? {
        try await database.read { sql in
            guard
                let row = try await sql.raw("SELECT user_id, revoked_at, created_at, last_used_at FROM sessions WHERE id = \(bind: id)")
                    .first()
            else { return nil }
            return SessionStatus(
                userID: try row.decodeUUID(column: "user_id"),
                isRevoked: try row.decode(column: "revoked_at", as: Date?.self) != nil,
                createdAt: try row.decode(column: "created_at", as: Date.self),
                lastUsedAt: try row.decode(column: "last_used_at", as: Date.self)
            )
        }
    }

    /// Records that a session was used just now.
    package func touchSession(id: UUID, now: Date) async throws {
        try await write { transaction in
            try await transaction.sql.raw("UPDATE sessions SET last_used_at = \(bind: now) WHERE id = \(bind: id)").run()
        }
    }

    /// Revokes one live session of `userID`; false when there is no such live session of theirs.
    package func revokeSession(
        id: UUID,
        of userID: UUID,
        reason: SessionRevokedData.Reason,
        now: Date
    ) async throws -> Bool {
        try await write { transaction in
            try await !transaction.revokeSessions(of: userID, only: id, reason: reason, now: now).isEmpty
        }
    }

    /// Spends a refresh token and stores its successor, or detects reuse and revokes the session.
    ///
    /// The successor is derived from the token presented, so a retry within `retryGrace` — the same
    /// token again while its successor is still unused — is recognized and answered `.retried`
    /// rather than taken for a stolen copy.
    package func rotateRefreshToken(
        presentedHash: String,
        successor: RefreshTokenRecord,
        now: Date
    ) async throws -> RefreshOutcome {
        let ageCutoff = now.addingTimeInterval(-sessions.absoluteLifetime)
        let graceCutoff = now.addingTimeInterval(-sessions.retryGrace)
        return try await write { transaction in
            let spent = try await transaction.sql.raw(
                """
                UPDATE refresh_tokens SET used_at = \(bind: now)
                WHERE token_hash = \(bind: presentedHash) AND used_at IS NULL AND expires_at > \(bind: now)
                RETURNING session_id
                """
            ).first()
            if let spent {
                let sessionID = try spent.decodeUUID(column: "session_id")
                let session = try await transaction.sql.raw(
                    """
                    SELECT user_id FROM sessions
                    WHERE id = \(bind: sessionID) AND revoked_at IS NULL AND created_at > \(bind: ageCutoff)
                    """
                ).first()
                guard let userID = try session?.decodeUUID(column: "user_id") else { return .invalid }
                try await transaction.insertRefreshToken(successor, sessionID: sessionID, now: now)
                try await transaction.sql.raw("UPDATE sessions SET last_used_at = \(bind: now) WHERE id = \(bind: sessionID)")
                    .run()
                return .rotated(sessionID: sessionID, userID: userID)
            }
            // Not live. A token that was spent before means a copy is in someone else's hands.
            let known = try await transaction.sql.raw(
                """
                SELECT r.session_id, r.used_at, s.user_id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
                WHERE r.token_hash = \(bind: presentedHash)
                """
            ).first()
            guard let known, let usedAt = try known.decode(column: "used_at", as: Date?.self) else { return .invalid }
            let sessionID = try known.decodeUUID(column: "session_id")
            let userID = try known.decodeUUID(column: "user_id")
            if usedAt > graceCutoff {
                let unusedSuccessor = try await transaction.sql.raw(
                    """
                    SELECT 1 AS live FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
                    WHERE r.token_hash = \(bind: successor.hash) AND r.session_id = \(bind: sessionID) AND r.used_at IS NULL
                          AND s.revoked_at IS NULL
                    """
                ).first()
                if unusedSuccessor != nil { return .retried(sessionID: sessionID, userID: userID, rotatedAt: usedAt) }
            }
            try await transaction.revokeSessions(of: userID, only: sessionID, reason: .refreshTokenReuse, now: now)
            return .reused(sessionID: sessionID)
        }
    }
}

extension Transaction {
    func insertSession(_ session: NewSession, userID: UUID, now: Date) async throws -> Session {
        let created = Session(
            id: UUID(),
            userID: userID,
            deviceName: session.deviceName,
            userAgent: session.userAgent,
            createdAt: now,
            lastUsedAt: now
        )
        try await sql.raw(
            """
            INSERT INTO sessions (id, user_id, device_name, user_agent, created_at, last_used_at)
            VALUES (\(bind: created.id), \(bind: userID), \(bind: created.deviceName), \(bind: created.userAgent),
                    \(bind: now), \(bind: now))
            """
        ).run()
        try await insertRefreshToken(session.refreshToken, sessionID: created.id, now: now)
        return created
    }

    func insertRefreshToken(_ token: RefreshTokenRecord, sessionID: UUID, now: Date) async throws {
        try await sql.raw(
            """
            INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
            VALUES (\(bind: token.hash), \(bind: sessionID), \(bind: now), \(bind: token.expiresAt))
            """
        ).run()
    }

    /// Revokes live sessions of `userID` — just `only`, or all but `except`, or all — and appends a
    /// `session.revoked` event for each. Returns the ids revoked.
    @discardableResult
    func revokeSessions(
        of userID: UUID,
        only: UUID? = nil,
        except: UUID? = nil,
        reason: SessionRevokedData.Reason,
        now: Date
    ) async throws -> [UUID] {
        var query = SQLQueryString(
            "UPDATE sessions SET revoked_at = \(bind: now) WHERE user_id = \(bind: userID) AND revoked_at IS NULL"
        )
        if let only { query = query + " AND id = \(bind: only)" }
        if let except { query = query + " AND id <> \(bind: except)" }
        query = query + " RETURNING id"
        let revoked = try await sql.raw(query).all().map { try $0.decodeUUID(column: "id") }
        for sessionID in revoked.sorted(by: { $0.uuidString < $1.uuidString }) {
            try await append(to: .user(userID), .sessionRevoked(SessionRevokedData(sessionID: sessionID, reason: reason)), at: now)
        }
        return revoked
    }
}

/// A `sessions` row.
struct SessionRow {
    static let columns = "id, user_id, device_name, user_agent, created_at, last_used_at"

    var id: UUID
    var userID: UUID
    var deviceName: String?
    var userAgent: String?
    var createdAt: Date
    var lastUsedAt: Date

    /// A row selected with `columns`.
    init(row: any SQLRow) throws {
        id = try row.decodeUUID(column: "id")
        userID = try row.decodeUUID(column: "user_id")
        deviceName = try row.decode(column: "device_name", as: String?.self)
        userAgent = try row.decode(column: "user_agent", as: String?.self)
        createdAt = try row.decode(column: "created_at", as: Date.self)
        lastUsedAt = try row.decode(column: "last_used_at", as: Date.self)
    }

    var session: Session {
        Session(id: id, userID: userID, deviceName: deviceName, userAgent: userAgent, createdAt: createdAt, lastUsedAt: lastUsedAt)
    }
}
