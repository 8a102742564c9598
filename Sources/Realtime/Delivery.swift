import DequeModule
import Foundation
import Models

/// The rules that decide what one realtime connection receives, as a value that takes inputs and
/// returns actions — no sockets, no database, no clock. `RealtimeSocket` carries the actions out.
///
/// - Every stream the connection follows has a position: the last seq delivered (or, before
///   delivery starts, known to the client). An event at or below it is a duplicate and is skipped;
///   one beyond the next seq means events were missed, and they are read from the log first.
/// - Live events wait until delivery starts: after a `resume` has been replayed, at the client's
///   first other frame, or when the resume window passes.
/// - Membership changes take effect the same way whether their event arrives live or from the log:
///   `member.added` for this user, or `conversation.joined` in their stream, follows the
///   conversation from the event that added them; `member.removed` for them, `conversation.left` and
///   `conversation.deleted` stop it after that event.
/// - `session.revoked` for the connection's own session closes it with 4501.
///
/// A `.read` or `.readPositions` action is always the last of its batch: answer it (`read(_:)`,
/// `positionsRead(_:)`) before anything else is expected to happen; inputs that come meanwhile wait.
struct Delivery {
    /// What the connection must do, in order.
    enum Action: Equatable {
        /// Write this event's frame.
        case send(FramedEvent)
        /// Write a `resync` frame.
        case resync(ResyncFrame)
        /// Write a `resumed` frame.
        case resumed(ResumedFrame)
        /// Route this stream's events to the connection from now on.
        case follow(StreamID)
        /// Stop routing this stream's events to the connection.
        case unfollow(StreamID)
        /// Read at most `limit` events of the stream after `after` from the log; answer with `read(_:)`.
        case read(StreamID, after: Int64, limit: Int)
        /// Read the current position of every stream the user follows; answer with `positionsRead(_:)`.
        case readPositions
        /// Close the connection.
        case close(CloseCode)
    }

    /// Work still to do, in order.
    private enum Step {
        /// A live event, once delivery has started.
        case deliver(FramedEvent)
        /// Deliver the stream from its position through `through`, or to its end when nil.
        case fill(StreamID, through: Int64?)
        /// Answer a `resume`.
        case resume(id: String?, cursors: [StreamID: Int64])
        /// Confirm a replay.
        case resumed(id: String?)
        /// Start live delivery.
        case start
        /// Compare every position with the log's.
        case refill
    }

    /// A log read the machine waits for.
    private enum Awaiting {
        case read(StreamID, after: Int64, through: Int64?, limit: Int)
        case positions
    }

    let userID: UUID
    let sessionID: UUID
    /// Events read from the log per query.
    let pageSize: Int
    /// Events held before delivery starts (or while a read is outstanding), at most.
    let maxHeld: Int

    /// The last seq delivered (or known to the client) of each followed stream.
    private(set) var positions: [StreamID: Int64]
    /// The positions `hello` announced: a stream still there has had no live event delivered.
    private let announced: [StreamID: Int64]
    private(set) var started = false
    private var pending: [FramedEvent] = []
    private var steps = Deque<Step>()
    private var awaiting: Awaiting?
    /// Conversations the user rejoined (their `conversation.joined` came before the stream's
    /// `member.removed` was delivered): the seq of the `member.added` that brought them back.
    private var rejoins: [StreamID: Int64] = [:]
    private var closed = false

    init(userID: UUID, sessionID: UUID, positions: [StreamID: Int64], pageSize: Int, maxHeld: Int) {
        self.userID = userID
        self.sessionID = sessionID
        self.positions = positions
        self.announced = positions
        self.pageSize = pageSize
        self.maxHeld = maxHeld
    }

    // MARK: - Inputs

    /// A live event routed to the connection.
    mutating func received(_ event: FramedEvent) -> [Action] {
        guard !closed else { return [] }
        if started {
            steps.append(.deliver(event))
        } else {
            pending.append(event)
        }
        guard pending.count + steps.count <= maxHeld else { return close(.slowConsumer) }
        return run()
    }

    /// The resume window passed, or the client sent a frame other than `resume`.
    mutating func start() -> [Action] {
        steps.append(.start)
        return run()
    }

    /// The client's `resume`: replay each named stream from its cursor to where the connection
    /// opened, confirm with `resumed`, then start.
    mutating func resume(id: String?, cursors: [StreamID: Int64]) -> [Action] {
        steps.append(.resume(id: id, cursors: cursors))
        return run()
    }

    /// The bus reconnected: events committed meanwhile may be missing.
    mutating func busReconnected() -> [Action] {
        steps.append(.refill)
        return run()
    }

    /// The answer to `.read`: the events found, oldest first.
    mutating func read(_ events: [FramedEvent]) -> [Action] {
        guard case .read(let stream, let after, let through, let limit)? = awaiting else { return [] }
        awaiting = nil
        var actions: [Action] = []
        let wanted = events.filter { through == nil || $0.event.seq <= through! }
        guard positions[stream] != nil, let first = wanted.first else {
            if let through, positions[stream] != nil {
                // The log no longer has any of what the client missed.
                actions.append(.resync(ResyncFrame(stream: stream, reason: .expired, lastSeq: through)))
                positions[stream] = through
            }
            return actions + run()
        }
        if first.event.seq > after + 1 {
            // The log lost the start of it: the client refetches that part, the rest follows.
            actions.append(.resync(ResyncFrame(stream: stream, reason: .expired, lastSeq: first.event.seq - 1)))
            positions[stream] = first.event.seq - 1
        }
        for event in wanted {
            guard let position = positions[stream], !closed else { break }
            if event.event.seq <= position { continue }  // jumped over by a rejoin
            deliver(event, into: &actions)
        }
        if let position = positions[stream], !closed {
            if let through, position < through {
                steps.prepend(.fill(stream, through: through))
            } else if through == nil, events.count == limit {
                steps.prepend(.fill(stream, through: nil))
            }
        }
        return actions + run()
    }

    /// The answer to `.readPositions`: the log's last seq of each of the user's streams.
    mutating func positionsRead(_ latest: [StreamID: Int64]) -> [Action] {
        guard case .positions? = awaiting else { return [] }
        awaiting = nil
        let fills = latest.sorted { $0.key < $1.key }.compactMap { stream, last -> Step? in
            guard let position = positions[stream], last > position else { return nil }
            return .fill(stream, through: last)
        }
        steps.prepend(contentsOf: fills)
        return run()
    }

    // MARK: - Working through the steps

    /// Works through the steps until they are done or one waits for a read.
    private mutating func run() -> [Action] {
        var actions: [Action] = []
        while awaiting == nil, !closed, let step = steps.popFirst() {
            switch step {
            case .deliver(let event):
                deliverLive(event, into: &actions)
            case .fill(let stream, let through):
                fill(stream, through: through, into: &actions)
            case .resume(let id, let cursors):
                resume(id: id, cursors: cursors, into: &actions)
            case .resumed(let id):
                actions.append(.resumed(ResumedFrame(id: id, streams: positions)))
            case .start:
                if !started {
                    started = true
                    steps.prepend(contentsOf: pending.map(Step.deliver))
                    pending = []
                }
            case .refill:
                awaiting = .positions
                actions.append(.readPositions)
            }
        }
        return actions
    }

    private mutating func deliverLive(_ event: FramedEvent, into actions: inout [Action]) {
        let stream = event.event.stream
        guard let position = positions[stream] else {
            // Not followed: only the event that adds this user starts a stream.
            guard event.event.joiningUser == userID else { return }
            positions[stream] = event.event.seq - 1
            actions.append(.follow(stream))
            deliver(event, into: &actions)
            // Events routed before the follow took effect are read from the log.
            if positions[stream] != nil { steps.prepend(.fill(stream, through: nil)) }
            return
        }
        guard event.event.seq > position else { return }
        if event.event.seq > position + 1 {
            // Missed events come first; the event is judged again after them.
            steps.prepend(.deliver(event))
            steps.prepend(.fill(stream, through: event.event.seq - 1))
            return
        }
        deliver(event, into: &actions)
    }

    private mutating func fill(_ stream: StreamID, through: Int64?, into actions: inout [Action]) {
        guard let position = positions[stream] else { return }
        if let through, position >= through { return }
        let limit = through.map { Int(min(Int64(pageSize), $0 - position)) } ?? pageSize
        awaiting = .read(stream, after: position, through: through, limit: limit)
        actions.append(.read(stream, after: position, limit: limit))
    }

    private mutating func resume(id: String?, cursors: [StreamID: Int64], into actions: inout [Action]) {
        var replay: [Step] = []
        for (stream, cursor) in cursors.sorted(by: { $0.key < $1.key }) {
            guard let position = positions[stream] else {
                actions.append(.resync(ResyncFrame(stream: stream, reason: .unknown, lastSeq: nil)))
                continue
            }
            if cursor > position {
                actions.append(.resync(ResyncFrame(stream: stream, reason: .ahead, lastSeq: position)))
            } else if cursor < position, position != announced[stream] {
                // Live events of this stream went out already; the missed ones cannot come before them.
                actions.append(.resync(ResyncFrame(stream: stream, reason: .late, lastSeq: position)))
            } else if cursor < position {
                positions[stream] = max(cursor, 0)
                replay.append(.fill(stream, through: position))
            }
        }
        steps.prepend(contentsOf: replay + [.resumed(id: id), .start])
    }

    /// Sends an event that is next in its stream, and applies what it changes for the connection.
    private mutating func deliver(_ event: FramedEvent, into actions: inout [Action]) {
        let stream = event.event.stream
        actions.append(.send(event))
        positions[stream] = event.event.seq
        switch event.event.payload {
        case .memberRemoved(let data) where data.userID == userID:
            if let rejoin = rejoins.removeValue(forKey: stream), rejoin > event.event.seq {
                // Back later: what happened while they were out is not theirs to see.
                positions[stream] = rejoin - 1
            } else {
                stopFollowing(stream, into: &actions)
            }
        case .conversationDeleted:
            stopFollowing(stream, into: &actions)
        case .conversationJoined(let data):
            guard let joinedAtSeq = data.joinedAtSeq else { break }
            let conversation = StreamID.conversation(data.conversation.id)
            if let position = positions[conversation] {
                // Still following from before a removal that is yet to be delivered.
                if position < joinedAtSeq - 1 { rejoins[conversation] = joinedAtSeq }
            } else {
                positions[conversation] = joinedAtSeq - 1
                actions.append(.follow(conversation))
                steps.prepend(.fill(conversation, through: nil))
            }
        case .conversationLeft(let data):
            let conversation = StreamID.conversation(data.conversationID)
            if positions[conversation] != nil, rejoins[conversation] == nil { stopFollowing(conversation, into: &actions) }
        case .sessionRevoked(let data) where data.sessionID == sessionID:
            actions.append(contentsOf: close(.sessionRevoked))
        default:
            break
        }
    }

    private mutating func stopFollowing(_ stream: StreamID, into actions: inout [Action]) {
        positions[stream] = nil
        actions.append(.unfollow(stream))
    }

    private mutating func close(_ code: CloseCode) -> [Action] {
        closed = true
        steps.removeAll()
        pending.removeAll()
        return [.close(code)]
    }
}
