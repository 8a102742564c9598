import DequeModule
import Foundation
import HummingbirdWebSocket
import Metrics
import Models
import Store

/// Works through a connection's outbox and writes to its socket, carrying out what its `Delivery`
/// decides: writing frames, reading missed events from the log, following and leaving streams.
struct DeliveryWriter {
    let context: RealtimeContext
    let connection: Connection
    let outbound: WebSocketOutboundWriter
    var delivery: Delivery

    init(context: RealtimeContext, connection: Connection, outbound: WebSocketOutboundWriter, positions: [StreamID: Int64]) {
        self.context = context
        self.connection = connection
        self.outbound = outbound
        self.delivery = Delivery(
            userID: connection.userID,
            sessionID: connection.sessionID,
            positions: positions,
            pageSize: context.configuration.replayPageSize,
            maxHeld: context.configuration.maxQueuedFrames
        )
    }

    mutating func run() async {
        do {
            while let item = await connection.outbox.next() {
                switch item {
                case .frame(let text):
                    try await outbound.writeTextMessage(text)
                case .event(let event):
                    try await perform(delivery.received(event))
                case .resume(let id, let cursors):
                    let streams = Dictionary(cursors.map { (StreamID(rawValue: $0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
                    try await perform(delivery.resume(id: id, cursors: streams))
                case .start:
                    try await perform(delivery.start())
                case .refill:
                    try await perform(delivery.busReconnected())
                }
            }
        } catch let problem as Problem {
            // The log could not be read (the database is unavailable, say): the client reconnects and resumes.
            connection.terminate(.closing(after: problem))
        } catch {
            // The socket went away: nothing to send.
            connection.outbox.terminate(.ended)
        }
    }

    /// Carries out actions in order; a read's answer brings more, which come next.
    private mutating func perform(_ actions: [Delivery.Action]) async throws {
        var queue = Deque(actions)
        while let action = queue.popFirst() {
            switch action {
            case .send(let event):
                try await outbound.writeTextMessage(event.text)
                DeliveryMetrics.delivered.increment()
            case .resync(let frame):
                try await outbound.writeTextMessage(try WireJSON.text(frame))
                DeliveryMetrics.resyncs.increment()
            case .resumed(let frame):
                try await outbound.writeTextMessage(try WireJSON.text(frame))
                DeliveryMetrics.resumes.increment()
            case .follow(let stream):
                context.hub.follow(connection, [stream])
            case .unfollow(let stream):
                context.hub.unfollow(connection, [stream])
            case .read(let stream, let after, let limit):
                let events = try await context.store.framedEvents(in: stream, after: after, limit: limit)
                DeliveryMetrics.readFromLog.increment(by: events.count)
                queue.append(contentsOf: delivery.read(events))
            case .readPositions:
                let positions = try await context.store.streamPositions(of: connection.userID)
                queue.append(contentsOf: delivery.positionsRead(positions))
            case .close(let code):
                connection.terminate(code)
            }
        }
    }
}

/// What `/metrics` counts of this node's deliveries. (Made once: a delivery is too frequent to look
/// its counter up each time.)
private enum DeliveryMetrics {
    /// Events written to sockets.
    static let delivered = Counter(label: "parley_events_delivered_total")
    /// Events read from the log for a connection: a resume, or a gap after the bus dropped some.
    static let readFromLog = Counter(label: "parley_events_replayed_total")
    static let resumes = Counter(label: "parley_resumes_total")
    static let resyncs = Counter(label: "parley_resyncs_total")
}
