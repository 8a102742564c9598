import Foundation

/// Whether a user is around, as their contacts and co-members see it.
public enum PresenceStatus: String, Codable, Sendable {
    case online
    case away
    case offline
}

/// An ephemeral notice that crosses nodes on the bus but is never logged: it matters only now.
public enum Signal: Codable, Sendable, Equatable {
    /// Someone is typing in a conversation; the notice lapses after `Signal.typingLifetime`.
    case typing(conversationID: UUID, userID: UUID)
    /// Someone's presence changed.
    case presence(userID: UUID, status: PresenceStatus, lastSeenAt: Date?)

    /// How long a typing notice holds without being repeated.
    public static let typingLifetime: TimeInterval = 6
}
