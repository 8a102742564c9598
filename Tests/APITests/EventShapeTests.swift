import Foundation
import ParleyClient
import Models
import Store
import TestSupport
import Testing

/// Every event the server writes reads back through the `Event` schema of openapi.yaml, as a client
/// generated from it sees it.
@Suite("Event shapes", .timeLimit(.minutes(1)))
struct EventShapeTests {
    @Test("Every event type is produced and decodes with the generated client", arguments: TestBackend.all)
    func everyEventDecodes(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let carol = try await app.register("carol")
            let a = app.api(token: alice.accessToken)
            let b = app.api(token: bob.accessToken)
            _ = try await a.updateMe(body: .json(.init(bio: "Hi"))).ok
            _ = try await a.putContact(path: .init(userId: bob.user.id)).ok
            _ = try await a.putContact(path: .init(userId: bob.user.id), body: .json(.init(nickname: "B"))).ok
            _ = try await a.removeContact(path: .init(userId: bob.user.id)).noContent
            let group = try await a.createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created.body.json.id
            _ = try await a.updateGroup(path: .init(conversationId: group), body: .json(.init(title: "G2"))).ok
            _ = try await a.addMembers(path: .init(conversationId: group), body: .json(.init(userIds: [carol.user.id]))).ok
            _ = try await a.updateMember(path: .init(conversationId: group, userId: bob.user.id), body: .json(.init(role: .admin))).ok
            _ = try await a.updateMe(body: .json(.init(displayName: "Alice L."))).ok
            // Mentioning Alice notifies her; her reading and Bob's deleting tell her devices.
            let message = try await b.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "1", body: "hey @alice"))).created.body.json
            _ = try await b.editMessage(path: .init(messageId: message.id), body: .json(.init(body: "hey @alice!"))).ok
            _ = try await a.addReaction(path: .init(messageId: message.id, emoji: "🎉")).noContent
            _ = try await a.removeReaction(path: .init(messageId: message.id, emoji: "🎉")).noContent
            _ = try await a.markRead(path: .init(conversationId: group), body: .json(.init(seq: message.seq))).noContent
            _ = try await b.deleteMessage(path: .init(messageId: message.id)).noContent
            _ = try await a.removeMember(path: .init(conversationId: group, userId: carol.user.id)).noContent

            // The conversation's log over REST, decoded by the generated client.
            let events = try await a.listConversationEvents(path: .init(conversationId: group)).ok.body.json
            #expect(events.items.count == Int(events.lastSeq))
            let messageCreated = events.items.compactMap { event -> Components.Schemas.MessageCreatedEvent? in
                if case .message_created(let created) = event { return created }
                return nil
            }
            #expect(messageCreated.first?.data.id == message.id)
            #expect(messageCreated.first?.seq == message.seq && messageCreated.first?.data.seq == message.seq)

            _ = try await a.updatePreferences(body: .json(.init(privacy: .init(showLastSeen: false)))).ok
            _ = try await a.updateConversationPreferences(path: .init(conversationId: group), body: .json(.init(notifications: .all))).ok
            let groupID = UUID(uuidString: group)!

            // Every stream, straight from the log, through the same generated schema — the group's
            // before it is deleted, since its log goes with it.
            var seen = Set<String>()
            let read: @Sendable ([StreamID]) async throws -> Set<String> = { streams in
                try await app.configuration.withStore { store in
                    var decoded = Set<String>()
                    for stream in streams {
                        for event in try await store.events(in: stream, after: 0, limit: 1000) {
                            _ = try Self.decode(event)
                            decoded.insert(event.type.rawValue)
                        }
                    }
                    return decoded
                }
            }
            seen.formUnion(try await read([.conversation(groupID)]))
            _ = try await a.deleteGroup(path: .init(conversationId: group)).noContent
            _ = try await b.logout().noContent
            seen.formUnion(try await read([alice, bob, carol].map { StreamID.user(UUID(uuidString: $0.user.id)!) }))
            // `conversation.deleted` is delivered live only: the Store's own form of it, then.
            let deleted = Models.Event(
                stream: .conversation(groupID), seq: 99, ts: Date(),
                payload: .conversationDeleted(ConversationDeletedData(id: groupID, deletedBy: UUID(uuidString: alice.user.id)!))
            )
            _ = try Self.decode(deleted)
            seen.insert(deleted.type.rawValue)
            #expect(seen == Set(EventType.all.map(\.rawValue)))
        }
    }

    static func decode(_ event: Models.Event) throws -> Components.Schemas.Event {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Components.Schemas.Event.self, from: try WireJSON.encode(event))
    }
}
