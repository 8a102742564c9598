import Foundation
import HummingbirdWebSocket
import Models
import Store

/// Works through a connection's outbox and writes to the socket, keeping every stream's events
/// in order and exactly once: an event at or below the stream's position is a duplicate and is
/// skipped; one beyond the next position means events were missed, and they are read from the
/// log first.
struct Writer {
    let context: RealtimeContext
    let connection: Connection
    let outbound: WebSocketOutboundWriter
    /// The last seq delivered (or, before delivery starts, known to the client) of each followed stream.
    var positions: [StreamID: Int64]
    /// The positions `hello` announced: a stream still there has had no live event delivered.
    private let announced: [StreamID: Int64]
    private var started = false
    private var pending: [(event: Event, frame: String)] = []

    init(context: RealtimeContext, connection: Connection, outbound: WebSocketOutboundWriter, positions: [StreamID: Int64]) {
        self.context = context
        self.connection = connection
        self.outbound = outbound
        self.positions = positions
        self.announced = positions
    }

    mutating func run() async {
        do {
            while let item = await connection.outbox.next() {
                switch item {
                case .frame(let text):
                    try await write(text)
                case .event(let event, let frame):
                    if started {
                        try await deliver(event, frame: frame)
                    } else if pending.count < context.configuration.maxQueuedFrames {
                        pending.append((event, frame))
                    } else {
                        connection.terminate(.slowConsumer)
                    }
                case .resume(let id, let cursors):
                    try await resume(id: id, cursors: cursors)
                case .start:
                    try await start()
                case .refill:
                    if started { try await refill() }
                }
            }
        } catch {
            // The socket went away, or the log could not be read: either way this connection is over.
            connection.outbox.terminate(.ended)
        }
    }

    // MARK: - Delivery

    private mutating func start() async throws {
        guard !started else { return }
        started = true
        let buffered = pending
        pending = []
        for (event, frame) in buffered { try await deliver(event, frame: frame) }
    }

    private mutating func deliver(_ event: Event, frame: String) async throws {
        // A conversation this connection just joined starts at the event that added its user.
        let position = positions[event.stream] ?? event.seq - 1
        guard event.seq > position else { return }
        if event.seq > position + 1 {
            try await fill(event.stream, after: position, through: event.seq - 1)
            guard positions[event.stream] != nil else { return }
        }
        try await write(frame)
        positions[event.stream] = event.seq
        apply(event)
    }

    /// Delivers the events of `(after, through]` from the log; when the log no longer has them all,
    /// tells the client to `resync` that stream.
    private mutating func fill(_ stream: StreamID, after start: Int64, through end: Int64) async throws {
        var cursor = start
        while cursor < end, positions[stream] != nil || cursor == start {
            let limit = Int(min(Int64(context.configuration.replayPageSize), end - cursor))
            let events = try await context.store.events(in: stream, after: cursor, limit: limit)
            guard let first = events.first, first.seq == cursor + 1 else {
                try await write(ServerFrame.encode(ServerFrame.Resync(stream: stream.rawValue, reason: "expired", lastSeq: end)))
                positions[stream] = end
                return
            }
            for event in events where event.seq <= end {
                try await write(ServerFrame.event(event))
                positions[stream] = event.seq
                cursor = event.seq
                apply(event)
                if positions[stream] == nil { return }
            }
        }
    }

    /// Replays each named stream from the client's cursor to where the connection opened, then
    /// confirms with `resumed` and starts live delivery.
    ///
    /// A resume that comes after live delivery began (a slow client) is still served for every
    /// stream that has had no live event since `hello`; a stream that has gets `resync`, since its
    /// missed events can no longer come before the ones already sent.
    private mutating func resume(id: String?, cursors: [String: Int64]) async throws {
        for (raw, cursor) in cursors.sorted(by: { $0.key < $1.key }) {
            let stream = StreamID(rawValue: raw)
            guard let position = positions[stream] else {
                try await write(ServerFrame.encode(ServerFrame.Resync(stream: raw, reason: "unknown", lastSeq: nil)))
                continue
            }
            if cursor > position {
                try await write(ServerFrame.encode(ServerFrame.Resync(stream: raw, reason: "ahead", lastSeq: position)))
            } else if cursor < position, position != announced[stream] {
                try await write(ServerFrame.encode(ServerFrame.Resync(stream: raw, reason: "late", lastSeq: position)))
            } else if cursor < position {
                try await fill(stream, after: max(cursor, 0), through: position)
            }
        }
        try await write(
            ServerFrame.encode(ServerFrame.Resumed(id: id, streams: Dictionary(uniqueKeysWithValues: positions.map { ($0.key.rawValue, $0.value) })))
        )
        try await start()
    }

    /// After the bus reconnected: anything committed meanwhile is read from the log.
    private mutating func refill() async throws {
        let latest = try await context.store.lastSeqs(of: Array(positions.keys))
        for (stream, last) in latest.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if let position = positions[stream], last > position {
                try await fill(stream, after: position, through: last)
            }
        }
    }

    /// What delivering an event changes for this connection.
    private mutating func apply(_ event: Event) {
        switch event.type {
        case .memberRemoved where Self.field("userId", of: event) == connection.userID:
            positions[event.stream] = nil
        case .conversationDeleted:
            positions[event.stream] = nil
        case .sessionRevoked where Self.field("sessionId", of: event) == connection.sessionID:
            connection.terminate(.sessionRevoked)
        default:
            break
        }
    }

    private func write(_ text: String) async throws {
        try await outbound.writeTextMessage(text)
    }

    private static func field(_ name: String, of event: Event) -> UUID? {
        guard let object = try? JSONSerialization.jsonObject(with: event.data) as? [String: Any], let value = object[name] as? String else {
            return nil
        }
        return UUID(uuidString: value)
    }
}
