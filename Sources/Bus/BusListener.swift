import Foundation
import Logging
import Models
import PostgresNIO
import ServiceLifecycle

/// Feeds a node's `EventBus` from PostgreSQL: LISTENs on the bus's channel on one pooled connection
/// and turns each NOTIFY back into events and signals. When that connection drops it reconnects
/// (retrying at least once a second) and announces `.reconnected`, so that subscribers fill what they missed
/// from the log.
struct BusListener: Service {
    let bus: EventBus
    let client: PostgresClient
    let readEvent: @Sendable (StreamID, Int64) async throws -> FramedEvent?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var attempt = 0
            var everConnected = false
            while !Task.isCancelled {
                do {
                    let channel = try await bus.notifyChannel()
                    try await client.withConnection { connection in
                        try await connection.listen(on: channel) { notifications in
                            if everConnected { bus.deliver([.reconnected]) }
                            everConnected = true
                            attempt = 0
                            for try await notification in notifications {
                                try await handle(notification.payload)
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("Lost the bus connection; reconnecting", metadata: ["error": "\(error)"])
                }
                attempt += 1
                try? await Task.sleep(for: .milliseconds(min(1000, 100 * (1 << min(attempt, 4)))))
            }
        }
    }

    private func handle(_ payload: String) async throws {
        switch BusWire.decode(payload) {
        case .event(let event):
            bus.deliver([bus.heard(event)])
        case .reference(let stream, let seq):
            if let event = try await readEvent(stream, seq) { bus.deliver([bus.heard(event)]) }
        case .signal(let signal):
            bus.deliver([.signal(signal)])
        case nil:
            logger.warning("Ignored a bus message it could not read")
        }
    }
}
