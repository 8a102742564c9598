package import Foundation
package import Models
import SQLKit

extension Store {
    // MARK: - Presence

    /// Who hears of `userID`'s presence — whom they share a conversation with and whom they have as
    /// a contact, never whom they blocked — and whether they let them see when they were last online.
    ///
    /// Adding someone as a contact does not let one follow their presence: it is theirs to give.
    package func presenceAudience(of userID: UUID) async throws -> (audience: Set<UUID>, showsLastSeen: Bool) {
        try await database.read { sql in
            let rows = try await sql.raw(
                """
                SELECT user_id FROM (
                    SELECT other.user_id AS user_id FROM members mine
                    JOIN members other ON other.conversation_id = mine.conversation_id
                    WHERE mine.user_id = \(bind: userID) AND other.user_id <> \(bind: userID)
                    UNION
                    SELECT contact_id AS user_id FROM contacts WHERE owner_id = \(bind: userID)
                ) audience
                WHERE user_id NOT IN (SELECT blocked_id FROM blocks WHERE blocker_id = \(bind: userID))
                """
            ).all()
            let audience = Set(try rows.map { try $0.decodeUUID(column: "user_id") })
            return (audience, try await sql.preferences(of: userID)?.privacy.showLastSeen ?? true)
        }
    }

    /// Records an open connection; returns the user's new presence when it changed.
    package func presenceConnected(
        _ connectionID: UUID,
        user userID: UUID,
        node: String,
        status: PresenceStatus,
        until expiry: Date,
        now: Date
    ) async throws -> PresenceStatus? {
        try await write { transaction in
            let before = try await transaction.presence(of: userID, now: now)
            try await transaction.sql.raw(
                """
                INSERT INTO presence (connection_id, user_id, node_id, status, expires_at)
                VALUES (\(bind: connectionID), \(bind: userID), \(bind: node), \(bind: status.rawValue), \(bind: expiry))
                """
            ).run()
            let after = try await transaction.presence(of: userID, now: now)
            return after == before ? nil : after
        }
    }

    /// Changes a connection's status (online or away); returns the user's new presence when it changed.
    package func presenceChanged(_ connectionID: UUID, user userID: UUID, to status: PresenceStatus, now: Date) async throws -> PresenceStatus? {
        try await write { transaction in
            let before = try await transaction.presence(of: userID, now: now)
            try await transaction.sql.raw(
                "UPDATE presence SET status = \(bind: status.rawValue) WHERE connection_id = \(bind: connectionID)"
            ).run()
            let after = try await transaction.presence(of: userID, now: now)
            return after == before ? nil : after
        }
    }

    /// A connection closed: it keeps counting until `graceUntil`, so a quick reconnect is not a departure.
    package func presenceDisconnected(_ connectionID: UUID, graceUntil: Date) async throws {
        try await write { transaction in
            try await transaction.sql.raw(
                "UPDATE presence SET expires_at = \(bind: graceUntil) WHERE connection_id = \(bind: connectionID)"
            ).run()
        }
    }

    /// Extends the lease of the connections `node` still holds open; a node that stops doing this
    /// (it died) has its users' presence expire.
    package func presenceRenewed(node: String, connections live: [UUID], until expiry: Date, now: Date) async throws {
        try await write { transaction in
            // Connections in their grace period after closing are not renewed. Batches keep each
            // statement under the databases' limits on bound parameters.
            for start in stride(from: 0, to: live.count, by: 1000) {
                let batch = live[start..<min(start + 1000, live.count)]
                try await transaction.sql.raw(
                    """
                    UPDATE presence SET expires_at = \(bind: expiry)
                    WHERE node_id = \(bind: node) AND expires_at > \(bind: now) AND connection_id IN (\(binds: Array(batch)))
                    """
                ).run()
            }
        }
    }

    /// Deletes lapsed connections and returns the users left with none, now offline, with their
    /// `lastSeenAt` set to `now`.
    package func presenceExpired(now: Date) async throws -> [UUID] {
        try await write { transaction in
            let lapsed = Set(
                try await transaction.sql.raw("DELETE FROM presence WHERE expires_at <= \(bind: now) RETURNING user_id").all()
                    .map { try $0.decodeUUID(column: "user_id") }
            )
            var departed: [UUID] = []
            for userID in lapsed where try await transaction.presence(of: userID, now: now) == .offline {
                try await transaction.sql.raw("UPDATE users SET last_seen_at = \(bind: now) WHERE id = \(bind: userID)").run()
                departed.append(userID)
            }
            return departed
        }
    }
}

extension Transaction {
    /// Online if any live connection says so, away if some are live but none online, else offline.
    func presence(of userID: UUID, now: Date) async throws -> PresenceStatus {
        let statuses = try await sql.raw(
            "SELECT status FROM presence WHERE user_id = \(bind: userID) AND expires_at > \(bind: now)"
        ).all().map { try $0.decode(column: "status", as: String.self) }
        if statuses.contains(PresenceStatus.online.rawValue) { return .online }
        return statuses.isEmpty ? .offline : .away
    }
}
