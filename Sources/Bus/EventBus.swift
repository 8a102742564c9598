import Foundation
import Logging
package import Models
package import PostgresNIO
package import ServiceLifecycle
import Synchronization

/// One thing the bus carries to a node's subscribers.
package enum BusItem: Sendable {
    /// A committed event and its JSON, delivered once per node in commit order; with the moment
    /// of its commit when this node committed it (for the bus lag in `/metrics`).
    case event(FramedEvent, committedAt: ContinuousClock.Instant?)
    /// An ephemeral signal.
    case signal(Signal)
    /// The node's connection to the bus was lost and is back: events may have been missed, so
    /// subscribers must compare their positions with the log.
    case reconnected
}

/// The message bus between a node's writers and its realtime connections, and between nodes.
///
/// The application builds one per process and hands it to the Store, which publishes each
/// transaction's events, and to the realtime service, which subscribes. In process (SQLite, one
/// node) the Store hands committed events over directly. On PostgreSQL the Store sends a NOTIFY in
/// each transaction — PostgreSQL delivers it at commit, in commit order, and never after a rollback
/// — and every node's `BusListener` turns what it hears back into events.
package final class EventBus: Sendable {
    private enum Transport {
        case inProcess
        case postgres(PostgresClient)
    }

    private let transport: Transport
    private let subscribers = Mutex<[UUID: AsyncStream<BusItem>.Continuation]>([:])
    private let channel = Mutex<String?>(nil)
    /// On PostgreSQL, when this node committed the events it has not yet heard back from the bus.
    private let unheard = Mutex<[EventKey: ContinuousClock.Instant]>([:])

    private struct EventKey: Hashable {
        let stream: StreamID
        let seq: Int64
        init(_ event: FramedEvent) {
            stream = event.event.stream
            seq = event.event.seq
        }
    }

    private init(transport: Transport) {
        self.transport = transport
    }

    /// The bus of a single process: nothing leaves it.
    package static func inProcess() -> EventBus {
        EventBus(transport: .inProcess)
    }

    /// A bus over the NOTIFY channel of `client`'s database schema, shared by every node on it.
    package static func postgres(_ client: PostgresClient) -> EventBus {
        EventBus(transport: .postgres(client))
    }

    // MARK: - Subscribing

    /// Items one subscriber may have waiting; past that the oldest are dropped. A dropped event is
    /// not lost: the connections it was for see a gap at the next event of its stream and read it
    /// from the log.
    package static let subscriberBuffer = 100_000

    /// A stream of everything delivered from now on; it ends when the subscriber stops iterating.
    package func subscribe() -> AsyncStream<BusItem> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<BusItem>.makeStream(bufferingPolicy: .bufferingNewest(Self.subscriberBuffer))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Hands `items` to every subscriber of this node, in order.
    func deliver(_ items: [BusItem]) {
        guard !items.isEmpty else { return }
        let targets = subscribers.withLock { Array($0.values) }
        for continuation in targets {
            for item in items { continuation.yield(item) }
        }
    }

    // MARK: - Publishing

    /// Makes the bus ready to publish: on PostgreSQL, learns its channel (once). Call it before a
    /// transaction takes its connection, so the lookup never waits for the pool behind it.
    package func prepare() async throws {
        if case .postgres = transport { _ = try await notifyChannel() }
    }

    /// The NOTIFY that a transaction appending `event` must send with it; nil on an in-process bus,
    /// whose events `committed` hands over instead. Needs `prepare()` first.
    package func notification(for event: FramedEvent) throws -> Notification? {
        guard case .postgres = transport else { return nil }
        guard let channel = channel.withLock({ $0 }) else { throw BusError.notPrepared }
        return Notification(channel: channel, payload: BusWire.encode(event))
    }

    /// A transaction has committed `events`, in order. Call it before the next transaction of this
    /// node can commit, so subscribers see commits in order.
    package func committed(_ events: [FramedEvent]) {
        let now = ContinuousClock.now
        switch transport {
        case .inProcess:
            deliver(events.map { .event($0, committedAt: now) })
        case .postgres:
            unheard.withLock { unheard in
                // Events whose NOTIFY was never heard (the listener was down) must not pile up.
                if unheard.count >= 10_000 { unheard.removeAll() }
                for event in events { unheard[EventKey(event)] = now }
            }
        }
    }

    /// The bus item for an event heard from PostgreSQL.
    func heard(_ event: FramedEvent) -> BusItem {
        .event(event, committedAt: unheard.withLock { $0.removeValue(forKey: EventKey(event)) })
    }

    /// Sends an ephemeral signal to every node, this one included.
    package func publish(_ signal: Signal) async throws {
        switch transport {
        case .inProcess:
            deliver([.signal(signal)])
        case .postgres(let client):
            let channel = try await notifyChannel()
            let payload = try BusWire.encode(signal)
            _ = try await client.query("SELECT pg_notify(\(channel), \(payload))").collect()
        }
    }

    /// The service that feeds this bus with what every node commits; nil in process, where there
    /// is nothing to listen to. `readEvent` reads an event too large for NOTIFY back from the log.
    package func listener(
        readEvent: @escaping @Sendable (StreamID, Int64) async throws -> FramedEvent?,
        logger: Logger
    ) -> (any Service)? {
        guard case .postgres(let client) = transport else { return nil }
        return BusListener(bus: self, client: client, readEvent: readEvent, logger: logger)
    }

    /// The NOTIFY channel of the database's current schema, so that Parley databases in different
    /// schemas of one PostgreSQL database (tests, say) never hear each other.
    func notifyChannel() async throws -> String {
        if let channel = channel.withLock({ $0 }) { return channel }
        guard case .postgres(let client) = transport else { return "" }
        var schema = "public"
        for try await (name) in try await client.query("SELECT current_schema()").decode(String.self) { schema = name }
        let name = "parley_" + String(schema.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }.prefix(50))
        channel.withLock { $0 = name }
        return name
    }
}

/// The bus was used before `prepare()`.
package enum BusError: Error {
    case notPrepared
}

/// A NOTIFY to send: its channel and payload.
package struct Notification: Sendable, Equatable {
    package var channel: String
    package var payload: String
}
