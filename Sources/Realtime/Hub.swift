import Foundation
import Models
import Synchronization

/// One open realtime connection, as the hub knows it.
final class Connection: Sendable {
    let id = UUID()
    let userID: UUID
    let sessionID: UUID
    let outbox: Outbox
    private let tokenExpiry: Mutex<Date>

    init(userID: UUID, sessionID: UUID, tokenExpiry: Date, configuration: RealtimeConfiguration) {
        self.userID = userID
        self.sessionID = sessionID
        self.tokenExpiry = Mutex(tokenExpiry)
        self.outbox = Outbox(maxItems: configuration.maxQueuedFrames, maxBytes: configuration.maxQueuedBytes)
    }

    /// When the connection's current access token expires.
    var expiresAt: Date {
        get { tokenExpiry.withLock { $0 } }
        set { tokenExpiry.withLock { $0 = newValue } }
    }

    /// Queues an item, closing the connection as a slow consumer when its queue is full.
    func send(_ item: OutboxItem) {
        if !outbox.push(item) { terminate(.slowConsumer) }
    }

    func terminate(_ code: CloseCode) {
        outbox.terminate(.close(code))
    }
}

/// The node's registry of open connections and the streams each follows, and the fan-out of
/// events to them. Routing only queues (it never waits on a client), and it applies membership
/// changes as it routes, so a connection follows a conversation from the event that added its user
/// to the one that removed them.
final class Hub: Sendable {
    private struct Registry {
        var connections: [UUID: Connection] = [:]
        var byUser: [UUID: Set<UUID>] = [:]
        var byStream: [StreamID: Set<UUID>] = [:]
        var streamsOf: [UUID: Set<StreamID>] = [:]
        var accepting = true

        mutating func follow(_ connectionID: UUID, _ stream: StreamID) {
            byStream[stream, default: []].insert(connectionID)
            streamsOf[connectionID, default: []].insert(stream)
        }

        mutating func unfollow(_ connectionID: UUID, _ stream: StreamID) {
            byStream[stream]?.remove(connectionID)
            if byStream[stream]?.isEmpty == true { byStream[stream] = nil }
            streamsOf[connectionID]?.remove(stream)
        }
    }

    private let registry = Mutex(Registry())

    /// Adds a connection, following its user's own stream; false once the hub is shutting down.
    func register(_ connection: Connection) -> Bool {
        registry.withLock { registry in
            guard registry.accepting else { return false }
            registry.connections[connection.id] = connection
            registry.byUser[connection.userID, default: []].insert(connection.id)
            registry.follow(connection.id, .user(connection.userID))
            return true
        }
    }

    func follow(_ connection: Connection, _ streams: [StreamID]) {
        registry.withLock { registry in
            guard registry.connections[connection.id] != nil else { return }
            for stream in streams { registry.follow(connection.id, stream) }
        }
    }

    func unfollow(_ connection: Connection, _ streams: [StreamID]) {
        registry.withLock { registry in
            for stream in streams { registry.unfollow(connection.id, stream) }
        }
    }

    func follows(_ connection: Connection, _ stream: StreamID) -> Bool {
        registry.withLock { $0.streamsOf[connection.id]?.contains(stream) ?? false }
    }

    func remove(_ connection: Connection) {
        registry.withLock { registry in
            registry.connections[connection.id] = nil
            registry.byUser[connection.userID]?.remove(connection.id)
            if registry.byUser[connection.userID]?.isEmpty == true { registry.byUser[connection.userID] = nil }
            for stream in registry.streamsOf[connection.id] ?? [] { registry.unfollow(connection.id, stream) }
            registry.streamsOf[connection.id] = nil
        }
    }

    /// Queues a committed event for every connection that follows its stream.
    func route(_ event: Event) {
        let frame = ServerFrame.event(event)
        let targets = registry.withLock { registry -> [Connection] in
            var ids = registry.byStream[event.stream] ?? []
            let memberChange = Self.memberChange(event)
            if event.type == .memberAdded, let user = memberChange {
                // The new member's connections follow the conversation from this event on.
                for id in registry.byUser[user] ?? [] {
                    registry.follow(id, event.stream)
                    ids.insert(id)
                }
            }
            let targets = ids.compactMap { registry.connections[$0] }
            if event.type == .memberRemoved, let user = memberChange {
                // …and stop after the event that removed them.
                for id in registry.byUser[user] ?? [] { registry.unfollow(id, event.stream) }
            }
            if event.type == .conversationDeleted {
                for id in ids { registry.unfollow(id, event.stream) }
            }
            return targets
        }
        for connection in targets { connection.send(.event(event, frame: frame)) }
    }

    /// Queues a typing notice for the conversation's other connections on this node.
    func routeTyping(conversationID: UUID, userID: UUID, frame: String) {
        let targets = registry.withLock { registry in
            (registry.byStream[.conversation(conversationID)] ?? []).compactMap { registry.connections[$0] }
        }
        for connection in targets where connection.userID != userID { connection.send(.frame(frame)) }
    }

    /// Queues a frame for every connection of these users on this node.
    func route(frame: String, to users: Set<UUID>) {
        let targets = registry.withLock { registry in
            users.flatMap { registry.byUser[$0] ?? [] }.compactMap { registry.connections[$0] }
        }
        for connection in targets { connection.send(.frame(frame)) }
    }

    /// Queues an item for every connection.
    func broadcast(_ item: OutboxItem) {
        for connection in registry.withLock({ Array($0.connections.values) }) { connection.send(item) }
    }

    /// The users connected to this node.
    var users: Set<UUID> { registry.withLock { Set($0.byUser.keys) } }

    /// The open connections' ids.
    var connectionIDs: [UUID] { registry.withLock { Array($0.connections.keys) } }

    var count: Int { registry.withLock { $0.connections.count } }

    /// Refuses new connections and closes every open one with `code`.
    func closeAll(_ code: CloseCode) {
        let all = registry.withLock { registry in
            registry.accepting = false
            return Array(registry.connections.values)
        }
        for connection in all { connection.terminate(code) }
    }

    /// The user a `member.added` or `member.removed` event is about.
    private static func memberChange(_ event: Event) -> UUID? {
        struct Added: Decodable { struct User: Decodable { var id: String }; var user: User }
        struct Removed: Decodable { var userId: String }
        switch event.type {
        case .memberAdded: return (try? JSONDecoder().decode(Added.self, from: event.data)).flatMap { UUID(uuidString: $0.user.id) }
        case .memberRemoved: return (try? JSONDecoder().decode(Removed.self, from: event.data)).flatMap { UUID(uuidString: $0.userId) }
        default: return nil
        }
    }
}
