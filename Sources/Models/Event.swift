import Foundation

/// Names one ordered stream of the event log: a user's (`user:<id>`) or a conversation's (`conversation:<id>`).
public struct StreamID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The private stream of one user: their profile, sessions, memberships and contacts.
    public static func user(_ id: UUID) -> StreamID { StreamID(rawValue: "user:\(id.lowercased)") }
    /// The stream every member of a conversation receives.
    public static func conversation(_ id: UUID) -> StreamID {
        StreamID(rawValue: "conversation:\(id.lowercased)")
    }
}

/// The type of a logged event, such as `message.created`.
public struct EventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The user's own profile changed; `data` is the user.
    public static let userUpdated = EventType(rawValue: "user.updated")
    /// One of the user's sessions was revoked; `data` is `{sessionId, reason}`.
    public static let sessionRevoked = EventType(rawValue: "session.revoked")
}

/// One entry of the append-only event log, exactly as clients receive it.
public struct Event: Sendable, Equatable {
    public var stream: StreamID
    /// Position in the stream: 1, 2, 3, ... with no gaps.
    public var seq: Int64
    public var type: EventType
    /// The event's payload: a JSON object, encoded.
    public var data: Data
    public var ts: Date

    public init(stream: StreamID, seq: Int64, type: EventType, data: Data, ts: Date) {
        self.stream = stream
        self.seq = seq
        self.type = type
        self.data = data
        self.ts = ts
    }
}

/// The payload of `session.revoked`.
public struct SessionRevokedPayload: Codable, Sendable, Equatable {
    /// Why the session ended.
    public enum Reason: String, Codable, Sendable {
        case logout
        case revoked
        case passwordChanged = "password_changed"
        case passwordReset = "password_reset"
        case refreshTokenReuse = "refresh_token_reuse"
    }

    public var sessionId: String
    public var reason: Reason

    public init(sessionId: UUID, reason: Reason) {
        self.sessionId = sessionId.lowercased
        self.reason = reason
    }
}

/// The payload of `user.updated`: the user's own profile, shaped as the REST `User`.
public struct UserPayload: Codable, Sendable, Equatable {
    public var id: String
    public var username: String
    public var displayName: String
    public var email: String
    public var bio: String?
    public var avatarUrl: String?
    public var createdAt: Date

    public init(_ user: User) {
        self.id = user.id.lowercased
        self.username = user.username
        self.displayName = user.displayName
        self.email = user.email
        self.bio = user.bio.isEmpty ? nil : user.bio
        self.avatarUrl = user.avatarURL
        self.createdAt = user.createdAt
    }
}

extension UUID {
    /// The canonical lower-case text form used on the wire.
    public var lowercased: String { uuidString.lowercased() }
}

/// The one JSON shape of event payloads: camelCase keys, RFC 3339 dates with whole seconds, lower-case UUIDs.
public enum EventCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
