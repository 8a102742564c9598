package import Foundation
package import Models
import SQLKit

/// A change to some of a user's preferences; nil leaves a setting as it is. Values arrive checked.
package struct PreferencesUpdate: Sendable {
    package var theme: AppearancePreferences.Theme?
    /// `.some(nil)` returns to the app's own accent.
    package var accentColor: String??
    package var fontScale: Double?
    package var density: AppearancePreferences.Density?
    package var reducedMotion: Bool?
    package var highContrast: Bool?
    package var screenReaderAnnouncements: Bool?
    package var directLevel: NotificationLevel?
    package var groupsLevel: NotificationLevel?
    package var sound: Bool?
    package var desktop: Bool?
    package var quietHoursEnabled: Bool?
    package var quietHoursStart: String?
    package var quietHoursEnd: String?
    package var quietHoursTimeZone: String?
    package var groupAdds: PrivacyPreferences.GroupAdds?
    package var showLastSeen: Bool?

    package init() {}

    /// `preferences` with this update applied.
    func applied(to preferences: Preferences) -> Preferences {
        var after = preferences
        if let theme { after.appearance.theme = theme }
        if let accentColor { after.appearance.accentColor = accentColor }
        if let fontScale { after.appearance.fontScale = fontScale }
        if let density { after.appearance.density = density }
        if let reducedMotion { after.accessibility.reducedMotion = reducedMotion }
        if let highContrast { after.accessibility.highContrast = highContrast }
        if let screenReaderAnnouncements { after.accessibility.screenReaderAnnouncements = screenReaderAnnouncements }
        if let directLevel { after.notifications.direct = directLevel }
        if let groupsLevel { after.notifications.groups = groupsLevel }
        if let sound { after.notifications.sound = sound }
        if let desktop { after.notifications.desktop = desktop }
        if let quietHoursEnabled { after.notifications.quietHours.enabled = quietHoursEnabled }
        if let quietHoursStart { after.notifications.quietHours.start = quietHoursStart }
        if let quietHoursEnd { after.notifications.quietHours.end = quietHoursEnd }
        if let quietHoursTimeZone { after.notifications.quietHours.timeZone = quietHoursTimeZone }
        if let groupAdds { after.privacy.groupAdds = groupAdds }
        if let showLastSeen { after.privacy.showLastSeen = showLastSeen }
        return after
    }
}

/// The part of `Preferences` kept as one JSON document, `users.settings` (privacy has columns of
/// its own, which queries read).
struct StoredSettings: Codable {
    var appearance: AppearancePreferences?
    var accessibility: AccessibilityPreferences?
    var notifications: NotificationPreferences?

    /// The settings of a `users.settings` value; defaults for what it lacks or cannot be read.
    init(json: String) {
        self = (try? WireJSON.decoder.decode(StoredSettings.self, from: Data(json.utf8))) ?? StoredSettings()
    }

    init(appearance: AppearancePreferences? = nil, accessibility: AccessibilityPreferences? = nil, notifications: NotificationPreferences? = nil) {
        self.appearance = appearance
        self.accessibility = accessibility
        self.notifications = notifications
    }
}

extension Store {
    /// A user's preferences; nil for no such user.
    package func preferences(of userID: UUID) async throws -> Preferences? {
        try await read { try await $0.preferences(of: userID) }
    }

    /// Applies `update` and, when anything changed, appends `preferences.updated` to the user's
    /// stream, so every device applies it.
    package func updatePreferences(of userID: UUID, _ update: PreferencesUpdate, now: Date) async throws -> Preferences? {
        try await write { transaction in
            guard let before = try await transaction.sql.preferences(of: userID) else { return nil }
            let after = update.applied(to: before)
            guard after != before else { return before }
            let settings = StoredSettings(appearance: after.appearance, accessibility: after.accessibility, notifications: after.notifications)
            let json = try WireJSON.text(settings)
            try await transaction.sql.raw(
                """
                UPDATE users SET group_adds = \(bind: after.privacy.groupAdds.rawValue),
                                 last_seen_visible = \(bind: after.privacy.showLastSeen ? 1 : 0),
                                 settings = \(bind: json), updated_at = \(bind: now)
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
        guard let row = try await raw("SELECT group_adds, last_seen_visible, settings FROM users WHERE id = \(bind: userID)").first() else {
            return nil
        }
        let settings = StoredSettings(json: try row.decode(column: "settings", as: String.self))
        return Preferences(
            appearance: settings.appearance ?? AppearancePreferences(),
            accessibility: settings.accessibility ?? AccessibilityPreferences(),
            notifications: settings.notifications ?? NotificationPreferences(),
            privacy: PrivacyPreferences(
                groupAdds: PrivacyPreferences.GroupAdds(rawValue: try row.decode(column: "group_adds", as: String.self)) ?? .everyone,
                showLastSeen: try row.decode(column: "last_seen_visible", as: Int.self) != 0
            )
        )
    }
}
