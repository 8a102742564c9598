import Foundation
import Models
import Synchronization

/// One thing the bus carries to a node's listeners.
public enum BusItem: Sendable {
    /// A committed event, delivered once per node in commit order.
    case event(Event)
    /// An ephemeral signal.
    case signal(Signal)
    /// The node's connection to the bus was lost and is back: events may have been missed, so
    /// listeners must compare their positions with the log.
    case reconnected
}

/// The in-process end of the bus: committed events and signals, fanned out to this node's listeners.
///
/// With SQLite the writer hands events here after each commit; with PostgreSQL a `BusListener`
/// forwards what LISTEN receives, so events written by any node arrive on every node.
public final class EventBus: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<BusItem>.Continuation]>([:])

    public init() {}

    /// A stream of everything delivered from now on; it ends when the subscriber stops iterating.
    public func subscribe() -> AsyncStream<BusItem> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<BusItem>.makeStream()
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Hands `items` to every subscriber, in order.
    public func deliver(_ items: [BusItem]) {
        guard !items.isEmpty else { return }
        let targets = subscribers.withLock { Array($0.values) }
        for continuation in targets {
            for item in items { continuation.yield(item) }
        }
    }
}

/// The text form of bus messages in PostgreSQL NOTIFY payloads, which are limited to 8,000 bytes:
/// `e|stream|seq|type|ts-milliseconds|data-json` for an event, `r|stream|seq` for an event too large
/// to carry (read back from the log), `s|signal-json` for a signal.
enum BusWire {
    static let maxPayload = 7_900

    static func encode(_ event: Event) -> String {
        let head = "e|\(event.stream.rawValue)|\(event.seq)|\(event.type.rawValue)|\(Int64(event.ts.timeIntervalSince1970 * 1000))|"
        let payload = head + String(decoding: event.data, as: UTF8.self)
        return payload.utf8.count <= maxPayload ? payload : "r|\(event.stream.rawValue)|\(event.seq)"
    }

    static func encode(_ signal: Signal) throws -> String {
        "s|" + String(decoding: try EventCoding.encoder.encode(signal), as: UTF8.self)
    }

    enum Message {
        case event(Event)
        case reference(StreamID, Int64)
        case signal(Signal)
    }

    static func decode(_ payload: String) -> Message? {
        let parts = payload.split(separator: "|", maxSplits: 5, omittingEmptySubsequences: false)
        switch parts.first {
        case "e" where parts.count == 6:
            guard let seq = Int64(parts[2]), let millis = Int64(parts[4]) else { return nil }
            return .event(
                Event(
                    stream: StreamID(rawValue: String(parts[1])),
                    seq: seq,
                    type: EventType(rawValue: String(parts[3])),
                    data: Data(parts[5].utf8),
                    ts: Date(timeIntervalSince1970: Double(millis) / 1000)
                )
            )
        case "r" where parts.count == 3:
            guard let seq = Int64(parts[2]) else { return nil }
            return .reference(StreamID(rawValue: String(parts[1])), seq)
        case "s":
            let json = payload.dropFirst(2)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return (try? decoder.decode(Signal.self, from: Data(json.utf8))).map(Message.signal)
        default:
            return nil
        }
    }
}
