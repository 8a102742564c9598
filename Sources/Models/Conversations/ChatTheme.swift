package import Foundation

/// How a conversation looks, shared by its members: the `ChatTheme` schema.
package struct ChatTheme: Codable, Hashable, Sendable {
    /// The themes every client knows.
    package static let names = ["classic", "rose", "ocean", "forest", "sunset", "midnight"]
    /// The backgrounds every client knows.
    package static let wallpapers = ["none", "dots", "waves", "paper"]

    /// One of `names`.
    package var name: String
    /// `#rrggbb`, in place of the theme's own accent; nil for the theme's.
    package var accentColor: String?
    /// One of `wallpapers`; nil for `none`.
    package var wallpaper: String?

    package init(name: String, accentColor: String? = nil, wallpaper: String? = nil) {
        self.name = name
        self.accentColor = accentColor
        self.wallpaper = wallpaper
    }

    /// This theme checked field by field (`field.name`, `field.accentColor`, …; `name`, … without
    /// a field) into `validator`.
    package func validated(_ field: String, into validator: inout Validator) -> ChatTheme {
        let field = field.isEmpty ? "" : field + "."
        var theme = self
        if !Self.names.contains(name) {
            validator.record(FieldError(field: "\(field)name", code: .invalidFormat, detail: "One of \(Self.names.joined(separator: ", "))."))
        }
        theme.accentColor = validator.check("\(field)accentColor", accentColor, FieldRules.color)
        if let wallpaper, !Self.wallpapers.contains(wallpaper) {
            validator.record(FieldError(field: "\(field)wallpaper", code: .invalidFormat, detail: "One of \(Self.wallpapers.joined(separator: ", "))."))
        }
        return theme
    }
}

/// One member's settings for one conversation: the `ConversationPreferences` schema.
package struct ConversationPreferences: Codable, Hashable, Sendable {
    /// What the conversation may tell them: their own choice, or their default for its kind.
    package var notifications: NotificationLevel
    /// Whether `notifications` is their own choice for this conversation (else their default).
    package var custom: Bool
    /// Until when the conversation is silent; nil when it is not muted.
    package var mutedUntil: Date?
    /// How the conversation looks to them alone, over its shared theme; nil for the shared one.
    package var theme: ChatTheme?

    package init(notifications: NotificationLevel, custom: Bool, mutedUntil: Date?, theme: ChatTheme?) {
        self.notifications = notifications
        self.custom = custom
        self.mutedUntil = mutedUntil
        self.theme = theme
    }
}
