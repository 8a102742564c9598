import Models
import Synchronization

/// Runs a database operation against its deadlines without waiting for it past them.
///
/// A task group cannot do this: it waits for every child, and an operation can wait for good —
/// a query written to a connection that closed under it (a PostgreSQL restart) never gets its
/// answer. So the operation runs in a task of its own, and whichever comes first — its result,
/// a deadline, the caller's cancellation — answers the caller; the operation is then cancelled
/// and left to end when it can.
enum OperationDeadline {
    /// What the operation tells its race.
    struct Control: Sendable {
        fileprivate let started: @Sendable () -> Void
        fileprivate let lost: @Sendable () -> Void

        /// It holds a connection now: the connection deadline no longer applies.
        func connected() { started() }
        /// Its connection is gone: it can only fail, so the caller hears so now.
        func connectionLost() { lost() }
    }

    /// Runs `operation`, asked for at `requested`; throws `Problem.databaseUnavailable` when it
    /// has not said it is connected within `connection` of `requested`, has not ended within
    /// `connection + operation` of it, says its connection is lost, or fails before it connected
    /// (no connection to be had: refused, the pool giving up).
    ///
    /// The deadlines count from `requested`, not from now: a write that waited in a batch queue
    /// behind a batch the database never answered has spent its wait already, and fails at once
    /// instead of waiting out the whole timeouts a second time.
    static func run<T: Sendable>(
        requested: ContinuousClock.Instant = .now,
        connection: Duration,
        operation: Duration,
        _ body: @escaping @Sendable (Control) async throws -> T
    ) async throws -> T {
        let connectionDeadline = requested + connection
        guard ContinuousClock.now < connectionDeadline else { throw Problem.databaseUnavailable }
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.begin(continuation)
                let work = Task {
                    do {
                        let control = Control(started: race.started, lost: { race.finish(.failure(Problem.databaseUnavailable)) })
                        race.finish(.success(try await body(control)))
                    } catch {
                        race.finish(.failure(race.hasStarted ? error : Problem.databaseUnavailable))
                    }
                }
                let timer = Task {
                    guard (try? await Task.sleep(until: connectionDeadline)) != nil else { return }
                    if !race.hasStarted { race.finish(.failure(Problem.databaseUnavailable)) }
                    guard (try? await Task.sleep(until: connectionDeadline + operation)) != nil else { return }
                    race.finish(.failure(Problem.databaseUnavailable))
                }
                race.attach(work: work, timer: timer)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }
}

/// The first outcome of an operation, its deadlines and its caller's cancellation.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var outcome: Result<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var started = false
    }

    private let state = Mutex(State())

    var hasStarted: Bool { state.withLock { $0.started } }

    @Sendable func started() {
        state.withLock { $0.started = true }
    }

    func begin(_ continuation: CheckedContinuation<T, any Error>) {
        // Cancelled before it began: answer at once.
        let early = state.withLock { state -> Result<T, any Error>? in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let finished = state.withLock { state -> Bool in
            state.work = work
            state.timer = timer
            return state.outcome != nil
        }
        if finished {
            work.cancel()
            timer.cancel()
        }
    }

    /// The first call answers the caller and stops the rest; later ones do nothing.
    func finish(_ outcome: Result<T, any Error>) {
        let (continuation, work, timer) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?) in
            guard state.outcome == nil else { return (nil, nil, nil) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        work?.cancel()
        timer?.cancel()
        continuation?.resume(with: outcome)
    }
}
