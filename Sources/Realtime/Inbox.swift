import DequeModule
import Synchronization

/// A connection's client messages waiting to be answered, in order, by one task at a time: the task
/// starts when a message arrives and ends when none is left, so an idle connection keeps none.
///
/// Messages are held from the upgrade on; answering starts once the connection is open (`open`).
/// Past `limit` held messages the socket stops reading until the answers catch up.
final class Inbox: Sendable {
    private struct State {
        var messages = Deque<ClientMessage>()
        /// Nil before the connection opens, and while the task answers with it.
        var reader: Reader?
        var working = false
        var closed = false
        var full = false
    }

    private let state = Mutex(State())
    private let limit: Int
    private let resumeReading: @Sendable () -> Void

    /// - Parameter resumeReading: called once the messages held fall back to half of `limit` after
    ///   they reached it.
    init(limit: Int = 32, resumeReading: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.resumeReading = resumeReading
    }

    /// Holds a message for answering, and starts answering if the connection is open.
    func push(_ message: ClientMessage) {
        let start = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.messages.append(message)
            if state.messages.count >= limit { state.full = true }
            return startWork(&state)
        }
        if start { work() }
    }

    /// Whether the socket should stop reading for now.
    var isFull: Bool { state.withLock { $0.full } }

    /// The connection is open: answer what is held, and what comes, with `reader`.
    func open(with reader: Reader) {
        let start = state.withLock { state -> Bool in
            state.reader = reader
            return startWork(&state)
        }
        if start { work() }
    }

    /// Drops what is held; a message being answered is the last.
    func close() {
        state.withLock { state in
            state.closed = true
            state.messages.removeAll()
        }
    }

    private func startWork(_ state: inout State) -> Bool {
        guard !state.working, !state.closed, state.reader != nil, !state.messages.isEmpty else { return false }
        state.working = true
        return true
    }

    private func work() {
        Task {
            while let (message, reader, resume) = next() {
                if resume { resumeReading() }
                var reader = reader
                await reader.handle(message)
                state.withLock { $0.reader = reader }
            }
        }
    }

    /// The next message and the reader to answer it with; nil (and the task ends) when none is left.
    private func next() -> (ClientMessage, Reader, resume: Bool)? {
        state.withLock { state in
            guard !state.closed, let reader = state.reader, let message = state.messages.popFirst() else {
                state.working = false
                return nil
            }
            state.reader = nil
            let resume = state.full && state.messages.count <= limit / 2
            if resume { state.full = false }
            return (message, reader, resume)
        }
    }
}
