import Foundation
import Models
import Synchronization

/// One open realtime connection, as the hub knows it: whose it is and its outbox.
final class Connection: Sendable {
    let id = UUID()
    let userID: UUID
    let sessionID: UUID
    /// The client's address as rate limits count it, if known.
    let address: String?
    let outbox: Outbox
    private let state: Mutex<State>

    private struct State {
        var tokenExpiry: Date
        var greeted = false
    }

    /// - Parameter wake: called when an item arrives for a writer that found the outbox empty.
    init(
        userID: UUID,
        sessionID: UUID,
        address: String? = nil,
        tokenExpiry: Date,
        configuration: RealtimeConfiguration,
        wake: @escaping @Sendable () -> Void = {}
    ) {
        self.userID = userID
        self.sessionID = sessionID
        self.address = address
        self.state = Mutex(State(tokenExpiry: tokenExpiry))
        self.outbox = Outbox(maxItems: configuration.maxQueuedFrames, maxBytes: configuration.maxQueuedBytes, wake: wake)
    }

    /// When the connection's current access token expires.
    var expiresAt: Date {
        get { state.withLock { $0.tokenExpiry } }
        set { state.withLock { $0.tokenExpiry = newValue } }
    }

    /// Queues `hello`; until then the connection receives no ephemeral frames, so `hello` is always first.
    func greet(_ hello: String) {
        send(.frame(hello))
        state.withLock { $0.greeted = true }
    }

    /// Whether `hello` is queued, so that other frames may follow it.
    var isGreeted: Bool { state.withLock { $0.greeted } }

    /// Queues an item, closing the connection as a slow consumer when its queue is full.
    func send(_ item: OutboxItem) {
        if !outbox.push(item) { terminate(.slowConsumer) }
    }

    func terminate(_ code: CloseCode) {
        outbox.terminate(.close(code))
    }
}
