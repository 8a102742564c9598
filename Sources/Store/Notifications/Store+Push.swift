package import Foundation
package import Models
import SQLKit

/// One push waiting to go out: to whom, with what, and how often it was tried.
package struct PushJob: Sendable {
    package var id: UUID
    package var subscriptionID: UUID
    package var endpoint: String
    /// The browser's P-256 key and auth secret, base64url as the browser gave them.
    package var p256dh: String
    package var auth: String
    package var payload: String
    /// Attempts so far, this one included.
    package var attempts: Int
}

extension Store {
    /// Keeps a browser's subscription for the user: a new one, or the same endpoint with new keys
    /// (a browser that subscribes again). Returns it and whether it is new.
    package func subscribeToPush(user userID: UUID, endpoint: String, p256dh: String, auth: String, now: Date) async throws -> (PushSubscription, Bool) {
        try await write { transaction in
            if let row = try await transaction.sql.raw("SELECT id, user_id, created_at FROM push_subscriptions WHERE endpoint = \(bind: endpoint)").first() {
                let id = try row.decodeUUID(column: "id")
                // An endpoint belongs to one browser: whoever subscribes it last receives its pushes.
                try await transaction.sql.raw(
                    "UPDATE push_subscriptions SET user_id = \(bind: userID), p256dh = \(bind: p256dh), auth = \(bind: auth) WHERE id = \(bind: id)"
                ).run()
                return (PushSubscription(id: id, endpoint: endpoint, createdAt: try row.decode(column: "created_at", as: Date.self)), false)
            }
            let subscription = PushSubscription(id: UUID(), endpoint: endpoint, createdAt: now)
            try await transaction.sql.raw(
                """
                INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at)
                VALUES (\(bind: subscription.id), \(bind: userID), \(bind: endpoint), \(bind: p256dh), \(bind: auth), \(bind: now))
                """
            ).run()
            return (subscription, true)
        }
    }

    /// Deletes one of the user's subscriptions, with its queued pushes; false when it is not theirs.
    package func unsubscribeFromPush(user userID: UUID, id: UUID) async throws -> Bool {
        try await write { transaction in
            try await transaction.sql.raw(
                "DELETE FROM push_subscriptions WHERE id = \(bind: id) AND user_id = \(bind: userID) RETURNING id"
            ).first() != nil
        }
    }

    /// Deletes a subscription the push service says is gone (404, 410).
    package func dropPushSubscription(_ id: UUID) async throws {
        try await write { try await $0.sql.raw("DELETE FROM push_subscriptions WHERE id = \(bind: id)").run() }
    }

    /// Takes up to `limit` due pushes for this node: each is leased until `leaseEnd` (another node
    /// takes it only after that) and counted as one more attempt.
    package func claimPushJobs(limit: Int, now: Date, leaseEnd: Date) async throws -> [PushJob] {
        let ids = try await claim(.pushes, limit: limit, now: now, leaseEnd: leaseEnd, returning: "id").map { try $0.decodeUUID(column: "id") }
        guard !ids.isEmpty else { return [] }
        return try await read { sql in
            try await sql.raw(
                """
                SELECT o.id, o.subscription_id, o.payload, o.attempts, s.endpoint, s.p256dh, s.auth
                FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id
                WHERE o.id IN (\(binds: ids))
                """
            ).all().map { row in
                PushJob(
                    id: try row.decodeUUID(column: "id"),
                    subscriptionID: try row.decodeUUID(column: "subscription_id"),
                    endpoint: try row.decode(column: "endpoint", as: String.self),
                    p256dh: try row.decode(column: "p256dh", as: String.self),
                    auth: try row.decode(column: "auth", as: String.self),
                    payload: try row.decode(column: "payload", as: String.self),
                    attempts: try row.decode(column: "attempts", as: Int.self)
                )
            }
        }
    }

    /// Forgets a push that went out, or that will never go.
    package func finishPushJob(_ id: UUID) async throws {
        try await write { try await $0.sql.raw("DELETE FROM push_outbox WHERE id = \(bind: id)").run() }
    }

    /// Pushes waiting, for metrics and tests.
    package func queuedPushes() async throws -> Int {
        try await read { try await $0.raw("SELECT COUNT(*) AS n FROM push_outbox").first()?.decode(column: "n", as: Int.self) ?? 0 }
    }

    /// Installs the VAPID key (a P-256 private key, base64 of its raw form) that signs every
    /// node's pushes: the first node to start makes it, in the database.
    package func loadSecret(_ name: String, making make: @Sendable () -> String, now: Date = Date()) async throws -> String {
        let candidate = make()
        let secret = try await write { transaction in
            try await transaction.sql.raw(
                "INSERT INTO secrets (name, value, created_at) VALUES (\(bind: name), \(bind: candidate), \(bind: now)) ON CONFLICT (name) DO NOTHING"
            ).run()
            return try await transaction.sql.raw("SELECT value FROM secrets WHERE name = \(bind: name)").first()?
                .decode(column: "value", as: String.self)
        }
        guard let secret else { throw StoreError.noRowReturned("secrets") }
        return secret
    }
}

extension Transaction {
    /// Queues a push of `notification` to each of the recipient's browsers, in this transaction.
    func queuePushes(of notification: InboxNotification, to subscriptions: [UUID], conversationTitle: String?, now: Date) async throws {
        let actor = notification.actor.displayName
        let title = switch notification.kind {
        case .mention: "\(actor) mentioned you" + (conversationTitle.map { " in \($0)" } ?? "")
        case .reply: "\(actor) replied to you" + (conversationTitle.map { " in \($0)" } ?? "")
        case .direct: actor
        case .addedToGroup: "\(actor) added you to \(conversationTitle ?? "a group")"
        }
        let payload = PushPayload(
            title: title,
            body: notification.excerpt,
            kind: notification.kind,
            notificationID: notification.id,
            conversationID: notification.conversationID,
            url: "/?conversation=\(notification.conversationID.lowercased)"
        )
        let json = try WireJSON.text(payload)
        for subscription in subscriptions {
            try await sql.raw(
                """
                INSERT INTO push_outbox (id, subscription_id, payload, attempts, next_attempt_at, created_at)
                VALUES (\(bind: UUID()), \(bind: subscription), \(bind: json), 0, \(bind: now), \(bind: now))
                """
            ).run()
        }
    }
}

extension QuietHours {
    /// Whether `date` falls in these hours, in their time zone.
    func covers(_ date: Date) -> Bool {
        guard enabled, let zone = TimeZone(identifier: timeZone), let start = Self.minutes(start), let end = Self.minutes(end), start != end else {
            return false
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        return start < end ? (start <= now && now < end) : (now >= start || now < end)
    }

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]) else { return nil }
        return hours * 60 + minutes
    }
}
