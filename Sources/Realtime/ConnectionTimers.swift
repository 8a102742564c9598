import Foundation
import NIOCore
import Synchronization

/// A connection's two deadlines, kept as scheduled tasks on its channel's event loop rather than
/// in a Swift task of its own (which would hold several KiB per idle connection): delivery starts
/// when the resume window passes, and the connection closes with 4001 when its access token
/// expires without a fresh one.
final class ConnectionTimers: Sendable {
    private struct State {
        var stopped = false
        var resumeWindow: Scheduled<Void>?
        var expiry: Scheduled<Void>?
    }

    private let connection: Connection
    private let loop: any EventLoop
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    init(connection: Connection, loop: any EventLoop, now: @escaping @Sendable () -> Date) {
        self.connection = connection
        self.loop = loop
        self.now = now
    }

    func start(resumeWindow: Duration) {
        let connection = connection
        let task = loop.scheduleTask(in: TimeAmount(resumeWindow)) { connection.send(.start) }
        keep(task, as: \.resumeWindow)
        watchExpiry()
    }

    /// Cancels both; nothing fires afterwards.
    func stop() {
        let (resumeWindow, expiry) = state.withLock { state in
            state.stopped = true
            return (state.resumeWindow, state.expiry)
        }
        resumeWindow?.cancel()
        expiry?.cancel()
    }

    /// Checks the token's expiry when it is due, and again whenever a fresh token moved it.
    private func watchExpiry() {
        let remaining = connection.expiresAt.timeIntervalSince(now())
        guard remaining > 0 else {
            connection.terminate(.authenticationFailed)
            return
        }
        let task = loop.scheduleTask(in: .milliseconds(Int64(remaining * 1000) + 10)) { [self] in watchExpiry() }
        keep(task, as: \.expiry)
    }

    /// Records a scheduled task, or cancels it at once when the timers were stopped meanwhile.
    private func keep(_ task: Scheduled<Void>, as slot: WritableKeyPath<State, Scheduled<Void>?>) {
        let stopped = state.withLock { state in
            if !state.stopped { state[keyPath: slot] = task }
            return state.stopped
        }
        if stopped { task.cancel() }
    }
}
