package import Foundation
package import Models
import SQLKit

/// A change to some of a user's preferences; nil leaves a setting as it is.
package struct PreferencesUpdate: Sendable {
    package var groupAdds: PrivacyPreferences.GroupAdds?
    package var showLastSeen: Bool?

    package init(groupAdds: PrivacyPreferences.GroupAdds? = nil, showLastSeen: Bool? = nil) {
        self.groupAdds = groupAdds
        self.showLastSeen = showLastSeen
    }
}

extension Store {
    /// A user's preferences; nil for no such user.
    package func preferences(of userID: UUID) async throws -> Preferences? {
        try await read { try await $0.preferences(of: userID) }
    }

    /// Applies `update` and, when anything changed, appends `preferences.updated` to the user's stream.
    package func updatePreferences(of userID: UUID, _ update: PreferencesUpdate, now: Date) async throws -> Preferences? {
        try await write { transaction in
            guard let before = try await transaction.sql.preferences(of: userID) else { return nil }
            var after = before
            if let groupAdds = update.groupAdds { after.privacy.groupAdds = groupAdds }
            if let showLastSeen = update.showLastSeen { after.privacy.showLastSeen = showLastSeen }
            guard after != before else { return before }
            try await transaction.sql.raw(
                """
                UPDATE users SET group_adds = \(bind: after.privacy.groupAdds.rawValue),
                                 last_seen_visible = \(bind: after.privacy.showLastSeen ? 1 : 0), updated_at = \(bind: now)
                WHERE id = \(bind: userID)
                """
            ).run()
            try await transaction.append(to: .user(userID), .preferencesUpdated(after), at: now)
            return after
        }
    }
}

extension SQLDatabase {
    func preferences(of userID: UUID) async throws -> Preferences? {
        guard let row = try await raw("SELECT group_adds, last_seen_visible FROM users WHERE id = \(bind: userID)").first() else {
            return nil
        }
        return Preferences(
            privacy: PrivacyPreferences(
                groupAdds: PrivacyPreferences.GroupAdds(rawValue: try row.decode(column: "group_adds", as: String.self)) ?? .everyone,
                showLastSeen: try row.decode(column: "last_seen_visible", as: Int.self) != 0
            )
        )
    }
}
