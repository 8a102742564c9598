import Auth
import Bus
import Foundation
import Logging
import Store
import Synchronization

/// What every connection of a node shares (a class: each connection keeps a reference, not a copy).
final class RealtimeContext: Sendable {
    let store: Store
    let bus: EventBus
    let authenticator: Authenticator
    let hub: Hub
    let configuration: RealtimeConfiguration
    /// Names this process in the presence table.
    let nodeID: String
    let now: @Sendable () -> Date
    let logger: Logger
    let typingLimiter = TypingLimiter()

    init(
        store: Store,
        bus: EventBus,
        authenticator: Authenticator,
        hub: Hub,
        configuration: RealtimeConfiguration,
        nodeID: String,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.store = store
        self.bus = bus
        self.authenticator = authenticator
        self.hub = hub
        self.configuration = configuration
        self.nodeID = nodeID
        self.now = now
        self.logger = logger
    }
}

/// At most one typing notice per user and conversation per interval, across this node's connections.
final class TypingLimiter: Sendable {
    private let lastSent = Mutex<[String: Date]>([:])

    func allow(user: UUID, conversation: UUID, now: Date, interval: TimeInterval) -> Bool {
        let key = "\(user):\(conversation)"
        return lastSent.withLock { lastSent in
            if let last = lastSent[key], now.timeIntervalSince(last) < interval { return false }
            if lastSent.count > 10_000 { lastSent = lastSent.filter { now.timeIntervalSince($0.value) < interval } }
            lastSent[key] = now
            return true
        }
    }
}
