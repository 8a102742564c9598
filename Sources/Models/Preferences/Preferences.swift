/// A user's settings that follow them from device to device: the `Preferences` schema, and the
/// data of `preferences.updated` in their own stream.
package struct Preferences: Codable, Hashable, Sendable {
    package var privacy: PrivacyPreferences

    package init(privacy: PrivacyPreferences = PrivacyPreferences()) {
        self.privacy = privacy
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
