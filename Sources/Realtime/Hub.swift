import Foundation
import Models
import Synchronization
import Metrics

/// The node's registry of open connections and the streams each follows, and the fan-out of
/// events and signals to them. Routing only queues (it never waits on a client) and reads the
/// event's type, never its JSON; which streams a connection follows is decided by its `Delivery`.
final class Hub: Sendable {
    private struct Registry {
        var connections: [UUID: Connection] = [:]
        var byUser: [UUID: Set<UUID>] = [:]
        var perAddress: [String: Int] = [:]
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

    /// Adds a connection, following no stream yet; or says why not, as the code to close it with:
    /// the hub is shutting down, or its user or address has as many connections as `limits` allow.
    func register(_ connection: Connection, limits: RealtimeConfiguration) -> CloseCode? {
        registry.withLock { registry in
            guard registry.accepting else { return .goingAway }
            guard registry.byUser[connection.userID, default: []].count < limits.maxConnectionsPerUser else { return .tooManyConnections }
            if let address = connection.address {
                guard registry.perAddress[address, default: 0] < limits.maxConnectionsPerAddress else { return .tooManyConnections }
                registry.perAddress[address, default: 0] += 1
            }
            registry.connections[connection.id] = connection
            registry.byUser[connection.userID, default: []].insert(connection.id)
            Self.openConnections.record(registry.connections.count)
            return nil
        }
    }

    /// Open WebSockets on this node, for `/metrics`.
    static let openConnections = Gauge(label: "parley_websockets_open")

    func follow(_ connection: Connection, _ streams: some Sequence<StreamID>) {
        registry.withLock { registry in
            guard registry.connections[connection.id] != nil else { return }
            for stream in streams { registry.follow(connection.id, stream) }
        }
    }

    func unfollow(_ connection: Connection, _ streams: some Sequence<StreamID>) {
        registry.withLock { registry in
            for stream in streams { registry.unfollow(connection.id, stream) }
        }
    }

    func follows(_ connection: Connection, _ stream: StreamID) -> Bool {
        registry.withLock { $0.streamsOf[connection.id]?.contains(stream) ?? false }
    }

    func remove(_ connection: Connection) {
        registry.withLock { registry in
            guard registry.connections.removeValue(forKey: connection.id) != nil else { return }
            if let address = connection.address {
                registry.perAddress[address, default: 1] -= 1
                if registry.perAddress[address] == 0 { registry.perAddress[address] = nil }
            }
            registry.byUser[connection.userID]?.remove(connection.id)
            if registry.byUser[connection.userID]?.isEmpty == true { registry.byUser[connection.userID] = nil }
            for stream in registry.streamsOf[connection.id] ?? [] { registry.unfollow(connection.id, stream) }
            registry.streamsOf[connection.id] = nil
            Self.openConnections.record(registry.connections.count)
        }
    }

    /// Queues a committed event for every connection that follows its stream, and — for a
    /// `member.added` — for the connections of the user it adds, who start following there.
    func route(_ event: FramedEvent) {
        let targets = registry.withLock { registry -> [Connection] in
            var ids = registry.byStream[event.event.stream] ?? []
            if let user = event.event.joiningUser { ids.formUnion(registry.byUser[user] ?? []) }
            return ids.compactMap { registry.connections[$0] }
        }
        for connection in targets { connection.send(.event(event)) }
    }

    /// Queues a typing notice for the conversation's other connections on this node.
    func routeTyping(conversationID: UUID, userID: UUID, frame: String) {
        let targets = registry.withLock { registry in
            (registry.byStream[.conversation(conversationID)] ?? []).compactMap { registry.connections[$0] }
        }
        for connection in targets where connection.userID != userID && connection.isGreeted { connection.send(.frame(frame)) }
    }

    /// Queues a frame for every greeted connection of these users on this node.
    func route(frame: String, to users: Set<UUID>) {
        let targets = registry.withLock { registry in
            users.flatMap { registry.byUser[$0] ?? [] }.compactMap { registry.connections[$0] }
        }
        for connection in targets where connection.isGreeted { connection.send(.frame(frame)) }
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

    /// Items waiting in the connections' outboxes: in all, and in the fullest.
    var queued: (total: Int, largest: Int) {
        registry.withLock { Array($0.connections.values) }.reduce(into: (0, 0)) { sum, connection in
            let queued = connection.outbox.queued
            sum = (sum.0 + queued, max(sum.1, queued))
        }
    }

    /// Refuses new connections and closes every open one with `code`.
    func closeAll(_ code: CloseCode) {
        let all = registry.withLock { registry in
            registry.accepting = false
            return Array(registry.connections.values)
        }
        for connection in all { connection.terminate(code) }
    }
}
