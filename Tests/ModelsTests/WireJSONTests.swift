import Foundation
import Models
import Testing

@Suite("Wire JSON")
struct WireJSONTests {
    @Test("Ids go out in lower case, whether plain, optional or in a list")
    func lowerCaseIDs() throws {
        let id = UUID()
        let message = Message(
            id: id, conversationID: id, seq: 1, senderID: id, body: nil, clientMessageID: "c", replyToID: id,
            createdAt: Date(timeIntervalSince1970: 0), editedAt: nil, isDeleted: true
        )
        let text = try WireJSON.text(message)
        #expect(text.contains(id.uuidString.lowercased()))
        #expect(!text.contains(id.uuidString))
        #expect(text.contains(#""replyToId":"\#(id.uuidString.lowercased())""#))
        #expect(!text.contains("editedAt"))  // absent, not null
    }

    @Test("Keys are sorted, slashes unescaped, dates in whole seconds")
    func format() throws {
        let user = PublicUser(id: UUID(), username: "a", displayName: "A/B", avatarURL: "/media/x", createdAt: Date(timeIntervalSince1970: 1.75))
        let text = try WireJSON.text(user)
        #expect(text.hasPrefix(#"{"avatarUrl":"/media/x","createdAt":"1970-01-01T00:00:01Z","displayName":"A/B""#))
    }

    @Test("Every event type round-trips through its envelope", arguments: EventType.all)
    func eventsRoundTrip(type: EventType) throws {
        let id = UUID()
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let user = PublicUser(id: id, username: "u", displayName: "U", createdAt: at)
        let data = ConversationData(id: id, kind: .group, title: "G", description: "", iconURL: nil, createdAt: at, createdBy: id, memberCount: 1)
        let message = Message(id: id, conversationID: id, seq: 1, senderID: id, body: "b", clientMessageID: "c", replyToID: nil, createdAt: at, editedAt: nil, isDeleted: false)
        let payloads: [EventPayload] = [
            .messageCreated(message),
            .messageUpdated(MessageUpdatedData(id: id, conversationID: id, seq: 1, body: "b", editedAt: at)),
            .messageDeleted(MessageDeletedData(id: id, conversationID: id, seq: 1, deletedBy: id)),
            .reactionAdded(ReactionData(messageID: id, conversationID: id, messageSeq: 1, userID: id, emoji: "👍")),
            .reactionRemoved(ReactionData(messageID: id, conversationID: id, messageSeq: 1, userID: id, emoji: "👍")),
            .receiptUpdated(ReceiptData(conversationID: id, userID: id, lastReadSeq: 1)),
            .conversationCreated(data), .conversationUpdated(data),
            .conversationDeleted(ConversationDeletedData(id: id, deletedBy: id)),
            .memberAdded(MemberAddedData(conversationID: id, user: user, role: .admin, joinedAt: at, addedBy: id)),
            .memberRemoved(MemberRemovedData(conversationID: id, userID: id, removedBy: id, reason: .left)),
            .memberUpdated(MemberUpdatedData(conversationID: id, userID: id, role: .owner, changedBy: id)),
            .profileUpdated(ProfileUpdatedData(conversationID: id, user: PublicUser(id: id, username: "deleted-0", displayName: "Deleted user", createdAt: at, deleted: true))),
            .conversationJoined(ConversationJoinedData(conversation: data, role: .member, joinedAtSeq: 3)),
            .conversationLeft(ConversationLeftData(conversationID: id, reason: .deleted)),
            .contactAdded(Contact(user: user, nickname: "n", addedAt: at)), .contactUpdated(Contact(user: user, nickname: nil, addedAt: at)),
            .contactRemoved(ContactRemovedData(userID: id)),
            .userUpdated(User(id: id, username: "u", displayName: "U", email: "u@example.com", createdAt: at)),
            .sessionRevoked(SessionRevokedData(sessionID: id, reason: .accountDeleted)),
            .preferencesUpdated(Preferences(privacy: PrivacyPreferences(groupAdds: .contacts, showLastSeen: false))),
            .conversationPreferencesUpdated(
                ConversationPreferencesUpdatedData(
                    conversationID: id,
                    preferences: ConversationPreferences(notifications: .mentions, custom: true, mutedUntil: at, theme: nil)
                )
            ),
            .notificationCreated(
                NotificationCreatedData(
                    notification: InboxNotification(
                        id: id, kind: .addedToGroup, conversationID: id, messageID: nil, actor: user, excerpt: nil, createdAt: at, readAt: nil
                    ),
                    unreadCount: 1
                )
            ),
            .notificationsRead(NotificationsChangedData(ids: [id], unreadCount: 0)),
            .notificationsRemoved(NotificationsChangedData(ids: [id], unreadCount: 0)),
        ]
        #expect(Set(payloads.map(\.type)) == Set(EventType.all))
        let payload = try #require(payloads.first { $0.type == type })
        let event = Event(stream: .user(id), seq: 9, ts: at, payload: payload)
        #expect(try WireJSON.decode(Event.self, from: WireJSON.encode(event)) == event)
        #expect(try EventPayload(type: type, json: payload.json()) == payload)
    }

    @Test("An event of an unknown type is refused")
    func unknownType() {
        #expect(throws: EventDecodingError.unknownType("no.such")) {
            try EventPayload(type: EventType(rawValue: "no.such"), json: Data("{}".utf8))
        }
    }
}

@Suite("RFC 3339 dates")
struct RFC3339Tests {
    // (`ISO8601DateFormatter`, which the OpenAPI runtime's transcoder wrapped, rounds some fractions
    // up instead: REST bodies and events could name different seconds for one date. Both truncate now.)
    @Test("Dates are written as Foundation's ISO 8601 format style writes them, in whole seconds")
    func sameAsFoundation() {
        var generator = SystemRandomNumberGenerator()
        // From 1970 to 2200, fractions included, and the edges of a day, month and year.
        let samples = (0..<2000).map { _ in Date(timeIntervalSince1970: Double.random(in: 0..<7_258_118_400, using: &generator)) }
            + [0, 59.999, 86_399.5, 951_782_400, 1_798_761_599, 1_798_761_600].map(Date.init(timeIntervalSince1970:))
        for date in samples {
            #expect(RFC3339.string(from: date) == date.formatted(.iso8601), "\(date.timeIntervalSince1970)")
        }
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_798_761_599)) == "2026-12-31T23:59:59Z")
    }
}
