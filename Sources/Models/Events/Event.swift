package import Foundation

/// Names one ordered stream of the event log: a user's (`user:<id>`) or a conversation's (`conversation:<id>`).
package struct StreamID: RawRepresentable, Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    /// The private stream of one user: their profile, sessions, memberships and contacts.
    package static func user(_ id: UUID) -> StreamID { StreamID(rawValue: "user:\(id.lowercased)") }
    /// The stream every member of a conversation receives.
    package static func conversation(_ id: UUID) -> StreamID { StreamID(rawValue: "conversation:\(id.lowercased)") }

    package static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.rawValue < rhs.rawValue }

    package init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The type of a logged event, such as `message.created`.
package struct EventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    package static let messageCreated = EventType(rawValue: "message.created")
    package static let messageUpdated = EventType(rawValue: "message.updated")
    package static let messageDeleted = EventType(rawValue: "message.deleted")
    package static let reactionAdded = EventType(rawValue: "reaction.added")
    package static let reactionRemoved = EventType(rawValue: "reaction.removed")
    package static let receiptUpdated = EventType(rawValue: "receipt.updated")
    package static let conversationCreated = EventType(rawValue: "conversation.created")
    package static let conversationUpdated = EventType(rawValue: "conversation.updated")
    package static let conversationDeleted = EventType(rawValue: "conversation.deleted")
    package static let memberAdded = EventType(rawValue: "member.added")
    package static let memberRemoved = EventType(rawValue: "member.removed")
    package static let memberUpdated = EventType(rawValue: "member.updated")
    package static let profileUpdated = EventType(rawValue: "profile.updated")
    package static let conversationJoined = EventType(rawValue: "conversation.joined")
    package static let conversationLeft = EventType(rawValue: "conversation.left")
    package static let contactAdded = EventType(rawValue: "contact.added")
    package static let contactUpdated = EventType(rawValue: "contact.updated")
    package static let contactRemoved = EventType(rawValue: "contact.removed")
    package static let userUpdated = EventType(rawValue: "user.updated")
    package static let sessionRevoked = EventType(rawValue: "session.revoked")
    package static let preferencesUpdated = EventType(rawValue: "preferences.updated")
    package static let conversationPreferencesUpdated = EventType(rawValue: "conversation.preferences.updated")
    package static let notificationCreated = EventType(rawValue: "notification.created")
    package static let notificationsRead = EventType(rawValue: "notifications.read")
    package static let notificationsRemoved = EventType(rawValue: "notifications.removed")

    /// Every type the server logs; the specs must declare each.
    package static let all: [EventType] = [
        .messageCreated, .messageUpdated, .messageDeleted, .reactionAdded, .reactionRemoved, .receiptUpdated,
        .conversationCreated, .conversationUpdated, .conversationDeleted, .memberAdded, .memberRemoved, .memberUpdated, .profileUpdated,
        .conversationJoined, .conversationLeft, .contactAdded, .contactUpdated, .contactRemoved, .userUpdated, .sessionRevoked,
        .preferencesUpdated, .conversationPreferencesUpdated, .notificationCreated, .notificationsRead, .notificationsRemoved,
    ]
}

/// A logged event's type and data, typed: the one definition of every event's payload.
///
/// `indirect`: each payload lives once on the heap, so an event — and every queue entry, delivery
/// step and async frame that carries it on its way to thousands of connections — stays a few words.
package indirect enum EventPayload: Hashable, Sendable {
    case messageCreated(Message)
    case messageUpdated(MessageUpdatedData)
    case messageDeleted(MessageDeletedData)
    case reactionAdded(ReactionData)
    case reactionRemoved(ReactionData)
    case receiptUpdated(ReceiptData)
    case conversationCreated(ConversationData)
    case conversationUpdated(ConversationData)
    case conversationDeleted(ConversationDeletedData)
    /// In the conversation's stream; the added user's connections follow it from this event on.
    case memberAdded(MemberAddedData)
    /// In the conversation's stream; the removed user's connections stop following it after this event.
    case memberRemoved(MemberRemovedData)
    case memberUpdated(MemberUpdatedData)
    /// In each conversation the user is in: what others see of them changed.
    case profileUpdated(ProfileUpdatedData)
    /// In the user's own stream: they joined a conversation (created, added, or opened a direct one).
    case conversationJoined(ConversationJoinedData)
    /// In the user's own stream: they left, were removed, or the conversation was deleted.
    case conversationLeft(ConversationLeftData)
    case contactAdded(Contact)
    case contactUpdated(Contact)
    case contactRemoved(ContactRemovedData)
    /// The user's own profile changed.
    case userUpdated(User)
    /// One of the user's sessions was revoked.
    case sessionRevoked(SessionRevokedData)
    /// The user's preferences changed, on one of their devices.
    case preferencesUpdated(Preferences)
    /// In the user's own stream: their settings of one conversation changed, on one of their devices.
    case conversationPreferencesUpdated(ConversationPreferencesUpdatedData)
    case notificationCreated(NotificationCreatedData)
    case notificationsRead(NotificationsChangedData)
    case notificationsRemoved(NotificationsChangedData)

    package var type: EventType {
        switch self {
        case .messageCreated: .messageCreated
        case .messageUpdated: .messageUpdated
        case .messageDeleted: .messageDeleted
        case .reactionAdded: .reactionAdded
        case .reactionRemoved: .reactionRemoved
        case .receiptUpdated: .receiptUpdated
        case .conversationCreated: .conversationCreated
        case .conversationUpdated: .conversationUpdated
        case .conversationDeleted: .conversationDeleted
        case .memberAdded: .memberAdded
        case .memberRemoved: .memberRemoved
        case .memberUpdated: .memberUpdated
        case .profileUpdated: .profileUpdated
        case .conversationJoined: .conversationJoined
        case .conversationLeft: .conversationLeft
        case .contactAdded: .contactAdded
        case .contactUpdated: .contactUpdated
        case .contactRemoved: .contactRemoved
        case .userUpdated: .userUpdated
        case .sessionRevoked: .sessionRevoked
        case .preferencesUpdated: .preferencesUpdated
        case .conversationPreferencesUpdated: .conversationPreferencesUpdated
        case .notificationCreated: .notificationCreated
        case .notificationsRead: .notificationsRead
        case .notificationsRemoved: .notificationsRemoved
        }
    }

    /// The data alone, as the log stores it.
    package var data: any Encodable & Sendable {
        switch self {
        case .messageCreated(let data): data
        case .messageUpdated(let data): data
        case .messageDeleted(let data): data
        case .reactionAdded(let data), .reactionRemoved(let data): data
        case .receiptUpdated(let data): data
        case .conversationCreated(let data), .conversationUpdated(let data): data
        case .conversationDeleted(let data): data
        case .memberAdded(let data): data
        case .memberRemoved(let data): data
        case .memberUpdated(let data): data
        case .profileUpdated(let data): data
        case .conversationJoined(let data): data
        case .conversationLeft(let data): data
        case .contactAdded(let data), .contactUpdated(let data): data
        case .contactRemoved(let data): data
        case .userUpdated(let data): data
        case .sessionRevoked(let data): data
        case .preferencesUpdated(let data): data
        case .conversationPreferencesUpdated(let data): data
        case .notificationCreated(let data): data
        case .notificationsRead(let data), .notificationsRemoved(let data): data
        }
    }

    /// The message whose text this event carries: a deletion or an edit rewrites it.
    package var messageID: UUID? {
        switch self {
        case .messageCreated(let message): message.id
        case .messageUpdated(let data): data.id
        case .messageDeleted(let data): data.id
        default: nil
        }
    }

    /// Reads the data of an event of `type`.
    package init(type: EventType, data: (any Decodable.Type) throws -> any Decodable) throws {
        func read<T: Decodable>(_ kind: T.Type) throws -> T {
            guard let value = try data(kind) as? T else { throw EventDecodingError.unknownType(type.rawValue) }
            return value
        }
        switch type {
        case .messageCreated: self = .messageCreated(try read(Message.self))
        case .messageUpdated: self = .messageUpdated(try read(MessageUpdatedData.self))
        case .messageDeleted: self = .messageDeleted(try read(MessageDeletedData.self))
        case .reactionAdded: self = .reactionAdded(try read(ReactionData.self))
        case .reactionRemoved: self = .reactionRemoved(try read(ReactionData.self))
        case .receiptUpdated: self = .receiptUpdated(try read(ReceiptData.self))
        case .conversationCreated: self = .conversationCreated(try read(ConversationData.self))
        case .conversationUpdated: self = .conversationUpdated(try read(ConversationData.self))
        case .conversationDeleted: self = .conversationDeleted(try read(ConversationDeletedData.self))
        case .memberAdded: self = .memberAdded(try read(MemberAddedData.self))
        case .memberRemoved: self = .memberRemoved(try read(MemberRemovedData.self))
        case .memberUpdated: self = .memberUpdated(try read(MemberUpdatedData.self))
        case .profileUpdated: self = .profileUpdated(try read(ProfileUpdatedData.self))
        case .conversationJoined: self = .conversationJoined(try read(ConversationJoinedData.self))
        case .conversationLeft: self = .conversationLeft(try read(ConversationLeftData.self))
        case .contactAdded: self = .contactAdded(try read(Contact.self))
        case .contactUpdated: self = .contactUpdated(try read(Contact.self))
        case .contactRemoved: self = .contactRemoved(try read(ContactRemovedData.self))
        case .userUpdated: self = .userUpdated(try read(User.self))
        case .sessionRevoked: self = .sessionRevoked(try read(SessionRevokedData.self))
        case .preferencesUpdated: self = .preferencesUpdated(try read(Preferences.self))
        case .conversationPreferencesUpdated:
            self = .conversationPreferencesUpdated(try read(ConversationPreferencesUpdatedData.self))
        case .notificationCreated: self = .notificationCreated(try read(NotificationCreatedData.self))
        case .notificationsRead: self = .notificationsRead(try read(NotificationsChangedData.self))
        case .notificationsRemoved: self = .notificationsRemoved(try read(NotificationsChangedData.self))
        default: throw EventDecodingError.unknownType(type.rawValue)
        }
    }

    /// Reads the data of an event of `type` from the JSON the log stores.
    package init(type: EventType, json: Data) throws {
        try self.init(type: type) { kind in try WireJSON.decoder.decode(kind, from: json) }
    }

    /// The data as the JSON the log stores.
    package func json() throws -> Data {
        try WireJSON.encode(data)
    }
}

/// An event whose type this build does not know.
package enum EventDecodingError: Error, Equatable {
    case unknownType(String)
}

/// One entry of the append-only event log: the `Event` schema of openapi.yaml, and the frame in
/// which the realtime service delivers it — `{stream, seq, type, data, ts}`.
package struct Event: Codable, Hashable, Sendable {
    package var stream: StreamID
    /// Position in the stream: 1, 2, 3, ... with no gaps.
    package var seq: Int64
    package var ts: Date
    package var payload: EventPayload

    package var type: EventType { payload.type }

    package init(stream: StreamID, seq: Int64, ts: Date, payload: EventPayload) {
        self.stream = stream
        self.seq = seq
        self.ts = ts
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case stream, seq, type, data, ts
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stream = try container.decode(StreamID.self, forKey: .stream)
        seq = try container.decode(Int64.self, forKey: .seq)
        ts = try container.decode(Date.self, forKey: .ts)
        let type = EventType(rawValue: try container.decode(String.self, forKey: .type))
        payload = try EventPayload(type: type) { kind in try container.decode(kind, forKey: .data) }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stream, forKey: .stream)
        try container.encode(seq, forKey: .seq)
        try container.encode(type.rawValue, forKey: .type)
        try container.encode(payload.data, forKey: .data)
        try container.encode(ts, forKey: .ts)
    }
}

// MARK: - What routing needs to know

extension Event {
    /// The user a `member.added` event adds: their connections follow the stream from this event on.
    package var joiningUser: UUID? {
        if case .memberAdded(let data) = payload { return data.user.id }
        return nil
    }

    /// The user a `member.removed` event removes: their connections stop following after it.
    package var departingUser: UUID? {
        if case .memberRemoved(let data) = payload { return data.userID }
        return nil
    }
}
