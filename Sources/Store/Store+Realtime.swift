import Foundation
import Models
import SQLKit

extension Store {
    // MARK: - Subscriptions

    /// The streams a user's realtime connection follows: their own and each of their conversations'.
    public func streams(of userID: UUID) async throws -> [StreamID] {
        let conversations = try await database.read { sql in
            try await sql.raw("SELECT conversation_id FROM members WHERE user_id = \(bind: userID)").all()
                .map { try $0.decode(column: "conversation_id", as: UUID.self) }
        }
        return [.user(userID)] + conversations.map(StreamID.conversation)
    }

    /// The last seq of each stream; 0 for a stream nothing was written to.
    public func lastSeqs(of streams: [StreamID]) async throws -> [StreamID: Int64] {
        guard !streams.isEmpty else { return [:] }
        let rows = try await database.read { sql in
            try await sql.raw("SELECT stream, last_seq FROM event_streams WHERE stream IN (\(binds: streams.map(\.rawValue)))").all()
        }
        var seqs = Dictionary(uniqueKeysWithValues: streams.map { ($0, Int64(0)) })
        for row in rows {
            seqs[StreamID(rawValue: try row.decode(column: "stream", as: String.self))] = try row.decode(column: "last_seq", as: Int64.self)
        }
        return seqs
    }

    /// Deletes logged events older than `cutoff`; clients behind that point must resync.
    @discardableResult
    public func pruneEvents(olderThan cutoff: Date) async throws -> Int {
        try await database.write { transaction in
            try await transaction.sql.raw("DELETE FROM events WHERE ts < \(bind: cutoff) RETURNING seq").all().count
        }
    }

    // MARK: - Presence

    /// Who hears of `userID`'s presence: their co-members in any conversation, and everyone who has
    /// them as a contact.
    public func presenceAudience(of userID: UUID) async throws -> Set<UUID> {
        try await database.read { sql in
            let rows = try await sql.raw(
                """
                SELECT other.user_id AS user_id FROM members mine
                JOIN members other ON other.conversation_id = mine.conversation_id
                WHERE mine.user_id = \(bind: userID) AND other.user_id <> \(bind: userID)
                UNION
                SELECT owner_id AS user_id FROM contacts WHERE contact_id = \(bind: userID)
                """
            ).all()
            return Set(try rows.map { try $0.decode(column: "user_id", as: UUID.self) })
        }
    }

    /// Records an open connection; returns the user's new presence when it changed.
    public func presenceConnected(
        _ connectionID: UUID,
        user userID: UUID,
        node: String,
        status: PresenceStatus,
        until expiry: Date,
        now: Date
    ) async throws -> PresenceStatus? {
        try await database.write { transaction in
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
    public func presenceChanged(_ connectionID: UUID, user userID: UUID, to status: PresenceStatus, now: Date) async throws -> PresenceStatus? {
        try await database.write { transaction in
            let before = try await transaction.presence(of: userID, now: now)
            try await transaction.sql.raw(
                "UPDATE presence SET status = \(bind: status.rawValue) WHERE connection_id = \(bind: connectionID)"
            ).run()
            let after = try await transaction.presence(of: userID, now: now)
            return after == before ? nil : after
        }
    }

    /// A connection closed: it keeps counting until `graceUntil`, so a quick reconnect is not a departure.
    public func presenceDisconnected(_ connectionID: UUID, graceUntil: Date) async throws {
        try await database.write { transaction in
            try await transaction.sql.raw(
                "UPDATE presence SET expires_at = \(bind: graceUntil) WHERE connection_id = \(bind: connectionID)"
            ).run()
        }
    }

    /// Extends the lease of the connections `node` still holds open; a node that stops doing this
    /// (it died) has its users' presence expire.
    public func presenceRenewed(node: String, connections live: [UUID], until expiry: Date, now: Date) async throws {
        try await database.write { transaction in
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
    public func presenceExpired(now: Date) async throws -> [UUID] {
        try await database.write { transaction in
            let lapsed = Set(
                try await transaction.sql.raw("DELETE FROM presence WHERE expires_at <= \(bind: now) RETURNING user_id").all()
                    .map { try $0.decode(column: "user_id", as: UUID.self) }
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
