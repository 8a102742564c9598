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

/// What the outbox hands its reader.
enum OutboxTake: Sendable {
    case item(OutboxItem)
    /// Nothing queued: the reader is woken by the next push (or the termination).
    case empty
    case terminated(Termination)
}

/// A connection's bounded outbound queue: anyone may add to it without waiting (the hub never waits
/// on a client), one reader drains it on the connection's event loop. A reader that found it empty
/// is woken (`wake`) by the next push, so an idle connection keeps no task waiting. Past its limit in
/// frames or bytes it refuses, and the connection is closed as a slow consumer.
final class Outbox: Sendable {
    private struct State {
        var items = Deque<(item: OutboxItem, bytes: Int)>()
        var bytes = 0
        /// The reader found the queue empty and waits to be woken.
        var waiting = false
        var termination: Termination?
    }

    private let state = Mutex(State())
    private let maxItems: Int
    private let maxBytes: Int
    private let wake: @Sendable () -> Void

    init(maxItems: Int, maxBytes: Int, wake: @escaping @Sendable () -> Void = {}) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.wake = wake
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
            case queued(wake: Bool)
            case refused
        }
        let outcome: Outcome = state.withLock { state in
            if state.termination != nil { return .queued(wake: false) }
            guard state.items.count < maxItems, state.bytes + bytes <= maxBytes else { return .refused }
            state.items.append((item, bytes))
            state.bytes += bytes
            defer { state.waiting = false }
            return .queued(wake: state.waiting)
        }
        switch outcome {
        case .queued(let wake):
            if wake { self.wake() }
            return true
        case .refused:
            return false
        }
    }

    /// The next item; when there is none, the reader is woken by the next push.
    func take() -> OutboxTake {
        state.withLock { state in
            if let termination = state.termination { return .terminated(termination) }
            guard let first = state.items.popFirst() else {
                state.waiting = true
                return .empty
            }
            state.bytes -= first.bytes
            return .item(first.item)
        }
    }

    /// Ends the connection for `reason`; the first reason given wins. Queued items are dropped, and
    /// the reader is woken.
    func terminate(_ reason: Termination) {
        let first = state.withLock { state -> Bool in
            guard state.termination == nil else { return false }
            state.termination = reason
            state.items.removeAll()
            state.bytes = 0
            state.waiting = false
            return true
        }
        // Woken even while writing (or unable to): the close goes out at once, ahead of what waits.
        if first { wake() }
    }

    /// How many items wait to be written.
    var queued: Int { state.withLock { $0.items.count } }

    /// Why the connection ended, once it has.
    var termination: Termination? { state.withLock { $0.termination } }
}
