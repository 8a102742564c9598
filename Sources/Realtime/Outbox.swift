import DequeModule
import Models
import Synchronization

/// What a connection's writer works through, in order.
enum OutboxItem: Sendable {
    /// A logged event, with its frame.
    case event(FramedEvent)
    /// A control or ephemeral frame, sent as it is.
    case frame(String)
    /// The client's `resume`: replay from these cursors, then start live delivery.
    case resume(id: String?, cursors: [String: Int64])
    /// Start live delivery (the resume window passed, or the client sent another frame first).
    case start
    /// The bus reconnected: compare positions with the log and fill what was missed.
    case refill
}

/// Why a connection ends.
enum Termination: Sendable, Equatable {
    /// The client closed, or the connection broke; nothing to send.
    case ended
    /// The server closes with this code.
    case close(CloseCode)
}

/// A connection's bounded outbound queue: anyone may add to it without waiting (the hub never waits
/// on a client), one writer drains it. Past its limit in frames or bytes it refuses, and the
/// connection is closed as a slow consumer.
final class Outbox: Sendable {
    private struct State {
        var items = Deque<(item: OutboxItem, bytes: Int)>()
        var bytes = 0
        var waiter: CheckedContinuation<OutboxItem?, Never>?
        var termination: Termination?
    }

    private let state = Mutex(State())
    private let maxItems: Int
    private let maxBytes: Int

    init(maxItems: Int, maxBytes: Int) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
    }

    /// Adds an item; false when the queue is full (the caller then terminates the connection).
    /// Items for a terminated connection are dropped.
    func push(_ item: OutboxItem) -> Bool {
        let bytes: Int
        switch item {
        case .event(let event): bytes = event.text.utf8.count
        case .frame(let frame): bytes = frame.utf8.count
        case .resume, .start, .refill: bytes = 0
        }
        enum Outcome {
            case handOver(CheckedContinuation<OutboxItem?, Never>)
            case queued
            case refused
        }
        let outcome: Outcome = state.withLock { state in
            if state.termination != nil { return .queued }
            if let waiter = state.waiter {
                // The writer waits only on an empty queue, so handing over keeps the order.
                state.waiter = nil
                return .handOver(waiter)
            }
            guard state.items.count < maxItems, state.bytes + bytes <= maxBytes else { return .refused }
            state.items.append((item, bytes))
            state.bytes += bytes
            return .queued
        }
        switch outcome {
        case .handOver(let waiter):
            waiter.resume(returning: item)
            return true
        case .queued:
            return true
        case .refused:
            return false
        }
    }

    /// The next item; nil once the connection is terminated.
    func next() async -> OutboxItem? {
        await withCheckedContinuation { continuation in
            let ready: OutboxItem?? = state.withLock { state in
                if state.termination != nil { return .some(nil) }
                if let first = state.items.popFirst() {
                    state.bytes -= first.bytes
                    return .some(first.item)
                }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Ends the connection for `reason`; the first reason given wins. Queued items are dropped.
    func terminate(_ reason: Termination) {
        let waiter = state.withLock { state -> CheckedContinuation<OutboxItem?, Never>? in
            guard state.termination == nil else { return nil }
            state.termination = reason
            state.items.removeAll()
            state.bytes = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// How many items wait to be written.
    var queued: Int { state.withLock { $0.items.count } }

    /// Why the connection ended, once it has.
    var termination: Termination? { state.withLock { $0.termination } }
}
