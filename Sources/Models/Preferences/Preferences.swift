/// A user's settings that follow them from device to device: the `Preferences` schema, and the
/// data of `preferences.updated` in their own stream.
package struct Preferences: Codable, Hashable, Sendable {
    package var appearance: AppearancePreferences
    package var accessibility: AccessibilityPreferences
    package var notifications: NotificationPreferences
    package var privacy: PrivacyPreferences

    package init(
        appearance: AppearancePreferences = AppearancePreferences(),
        accessibility: AccessibilityPreferences = AccessibilityPreferences(),
        notifications: NotificationPreferences = NotificationPreferences(),
        privacy: PrivacyPreferences = PrivacyPreferences()
    ) {
        self.appearance = appearance
        self.accessibility = accessibility
        self.notifications = notifications
        self.privacy = privacy
    }

    /// Reads preferences, also those logged before they had more than privacy: missing groups take
    /// their defaults.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        appearance = try container.decodeIfPresent(AppearancePreferences.self, forKey: .appearance) ?? AppearancePreferences()
        accessibility = try container.decodeIfPresent(AccessibilityPreferences.self, forKey: .accessibility) ?? AccessibilityPreferences()
        notifications = try container.decodeIfPresent(NotificationPreferences.self, forKey: .notifications) ?? NotificationPreferences()
        privacy = try container.decode(PrivacyPreferences.self, forKey: .privacy)
    }
}

/// How the apps look: the `AppearancePreferences` schema.
package struct AppearancePreferences: Codable, Hashable, Sendable {
    package enum Theme: String, Codable, Hashable, Sendable, CaseIterable { case light, dark, system }
    package enum Density: String, Codable, Hashable, Sendable, CaseIterable { case comfortable, compact }

    package var theme: Theme
    /// `#rrggbb`; nil for the app's own.
    package var accentColor: String?
    /// Text size relative to the app's, 0.8 to 2.0.
    package var fontScale: Double
    package var density: Density

    package init(theme: Theme = .system, accentColor: String? = nil, fontScale: Double = 1.0, density: Density = .comfortable) {
        self.theme = theme
        self.accentColor = accentColor
        self.fontScale = fontScale
        self.density = density
    }
}

/// What makes the apps easier to use: the `AccessibilityPreferences` schema.
package struct AccessibilityPreferences: Codable, Hashable, Sendable {
    package var reducedMotion: Bool
    package var highContrast: Bool
    /// Whether new messages are read out by screen readers (an ARIA live region on the web).
    package var screenReaderAnnouncements: Bool

    package init(reducedMotion: Bool = false, highContrast: Bool = false, screenReaderAnnouncements: Bool = true) {
        self.reducedMotion = reducedMotion
        self.highContrast = highContrast
        self.screenReaderAnnouncements = screenReaderAnnouncements
    }
}

/// How much a conversation may tell its member: the `NotificationLevel` schema.
package enum NotificationLevel: String, Codable, Hashable, Sendable, CaseIterable {
    /// Every message (direct messages reach the inbox).
    case all
    /// Mentions and replies only.
    case mentions
    /// Mentions and replies still reach the inbox; nothing else does.
    case none
}

/// Do-not-disturb hours, in the user's time zone: the `QuietHours` schema. `start` after `end`
/// spans midnight.
package struct QuietHours: Codable, Hashable, Sendable {
    package var enabled: Bool
    /// `HH:MM`, 24-hour.
    package var start: String
    package var end: String
    /// An IANA name, such as `Europe/Paris`.
    package var timeZone: String

    package init(enabled: Bool = false, start: String = "22:00", end: String = "07:00", timeZone: String = "UTC") {
        self.enabled = enabled
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }
}

/// The user's defaults for notifications: the `NotificationPreferences` schema.
package struct NotificationPreferences: Codable, Hashable, Sendable {
    /// The level of direct conversations that have none of their own.
    package var direct: NotificationLevel
    /// The level of groups that have none of their own.
    package var groups: NotificationLevel
    package var sound: Bool
    /// Whether the apps show system notifications while they are open but not in view.
    package var desktop: Bool
    /// Do-not-disturb hours: they hold back pushes, nothing else.
    package var quietHours: QuietHours

    package init(
        direct: NotificationLevel = .all,
        groups: NotificationLevel = .mentions,
        sound: Bool = true,
        desktop: Bool = true,
        quietHours: QuietHours = QuietHours()
    ) {
        self.direct = direct
        self.groups = groups
        self.sound = sound
        self.desktop = desktop
        self.quietHours = quietHours
    }
}

/// Who may do what with a user: the `PrivacyPreferences` schema.
package struct PrivacyPreferences: Codable, Hashable, Sendable {
    /// Who may add the user to groups.
    package enum GroupAdds: String, Codable, Hashable, Sendable {
        case everyone
        /// Only the people the user has as contacts.
        case contacts
    }

    package var groupAdds: GroupAdds
    /// Whether the people who see the user's presence also see when they were last online.
    package var showLastSeen: Bool

    package init(groupAdds: GroupAdds = .everyone, showLastSeen: Bool = true) {
        self.groupAdds = groupAdds
        self.showLastSeen = showLastSeen
    }
}
