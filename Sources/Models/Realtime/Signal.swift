package import Foundation

/// Whether a user is around, as their contacts and co-members see it.
package enum PresenceStatus: String, Codable, Hashable, Sendable {
    case online
    case away
    case offline
}

/// An ephemeral notice that crosses nodes on the bus but is never logged: it matters only now.
///
/// Its JSON is the realtime frame that announces it (`typing` or `presence.changed`), so the bus
/// carries exactly what the connections receive.
package enum Signal: Codable, Hashable, Sendable {
    /// Someone is typing in a conversation; the notice lapses after `Signal.typingLifetime`.
    case typing(conversationID: UUID, userID: UUID)
    /// Someone's presence changed.
    case presence(userID: UUID, status: PresenceStatus, lastSeenAt: Date?)

    /// How long a typing notice holds without being repeated.
    package static let typingLifetime: TimeInterval = 6

    /// The frame's `type`.
    package var type: String {
        switch self {
        case .typing: "typing"
        case .presence: "presence.changed"
        }
    }

    private struct Fields: Codable {
        var type: String
        var conversationId: String?
        var userId: String
        var expiresIn: Double?
        var status: PresenceStatus?
        var lastSeenAt: Date?
    }

    package init(from decoder: any Decoder) throws {
        let fields = try Fields(from: decoder)
        guard let userID = UUID(text: fields.userId) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "userId is not an id"))
        }
        switch fields.type {
        case "typing":
            guard let conversationID = fields.conversationId.flatMap(UUID.init(uuidString:)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "conversationId is not an id"))
            }
            self = .typing(conversationID: conversationID, userID: userID)
        case "presence.changed":
            guard let status = fields.status else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "status is missing"))
            }
            self = .presence(userID: userID, status: status, lastSeenAt: fields.lastSeenAt)
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not a signal"))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        switch self {
        case .typing(let conversationID, let userID):
            try Fields(type: type, conversationId: conversationID.lowercased, userId: userID.lowercased, expiresIn: Self.typingLifetime)
                .encode(to: encoder)
        case .presence(let userID, let status, let lastSeenAt):
            try Fields(type: type, userId: userID.lowercased, status: status, lastSeenAt: lastSeenAt).encode(to: encoder)
        }
    }
}
