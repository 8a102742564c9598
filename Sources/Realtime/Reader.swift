import Foundation
import Models
import Store
import Bus
import Logging
import Auth

/// A client's message: WebSocket text (already checked to be UTF-8), or anything else.
enum ClientMessage: Sendable {
    case text(String)
    case binary
}

/// Answers a connection's client frames, one at a time; replies go through the outbox, so they
/// keep their place among the events.
struct Reader {
    let context: RealtimeContext
    let connection: Connection
    /// Whether the first frame should start delivery (false when `auth` already carried cursors).
    var startPending: Bool
    private var tokens: Double
    private var lastRefill: ContinuousClock.Instant
    private var refusals: [ContinuousClock.Instant] = []

    init(context: RealtimeContext, connection: Connection, startPending: Bool) {
        self.context = context
        self.connection = connection
        self.startPending = startPending
        self.tokens = context.configuration.frameBurst
        self.lastRefill = .now
    }

    /// Answers one client message, in the order they came.
    mutating func handle(_ message: ClientMessage) async {
        guard connection.outbox.termination == nil else { return }
        guard case .text(let text) = message else {
            refuse(FrameError(id: nil, code: .invalidFrame, detail: "Frames are JSON text."))
            return
        }
        guard takeToken() else {
            refuse(FrameError(id: ClientFrame.id(in: text), code: .rateLimited, detail: "Too many frames; slow down."))
            return
        }
        let frame: ClientFrame
        do {
            frame = try ClientFrame.parse(text)
        } catch {
            startIfPending(with: nil)
            refuse(error)
            return
        }
        startIfPending(with: frame)
        await answer(frame)
    }

    // MARK: - Frames

    private mutating func answer(_ frame: ClientFrame) async {
        do {
            switch frame {
            case .auth(let token, _):
                try await refresh(token, id: frame.id)
            case .resume(let id, let cursors):
                connection.send(.resume(id: id, cursors: cursors))
            case .send(let id, let conversationID, let draft):
                try await send(id: id, conversation: conversationID, draft: draft)
            case .typing(let id, let conversationID):
                try await typing(id: id, conversation: conversationID)
            case .read(let id, let conversationID, let seq):
                let conversation = try Self.conversationID(conversationID)
                guard seq >= 0 else { throw Problem.invalidField("seq", .tooSmall, "Sequence numbers are 0 or more.") }
                try await context.store.markRead(conversation, by: connection.userID, upTo: seq, now: context.now())
                acknowledge(id, "read")
            case .presence(let id, let status):
                try await presence(id: id, status: status)
            case .ping(let id):
                reply(PongFrame(id: id))
            }
        } catch let problem as Problem {
            reply(ErrorFrame(problem, id: frame.id))
        } catch {
            context.logger.error("Realtime frame failed", metadata: ["error": "\(error)"])
            reply(ErrorFrame(.internalError, id: frame.id))
        }
    }

    /// A fresh access token for the same session keeps the connection open past the old one's expiry;
    /// it is always acknowledged, so the client knows the new expiry holds.
    private func refresh(_ token: String, id: String?) async throws {
        let identity = try await context.authenticator.authenticate(token: token)
        guard identity.userID == connection.userID, identity.sessionID == connection.sessionID else {
            throw Problem.forbidden("The token is for another session; open a new connection for it.")
        }
        connection.expiresAt = identity.expiresAt
        reply(AckFrame(id: id, for: "auth"))
    }

    private func send(id: String?, conversation raw: String, draft: MessageDraft) async throws {
        let conversation = try Self.conversationID(raw)
        let draft = try draft.validated()
        let (message, created) = try await context.store.sendMessage(
            to: conversation,
            from: connection.userID,
            clientMessageID: draft.clientMessageID,
            body: draft.body,
            replyTo: draft.replyToID,
            attachments: draft.attachments,
            now: context.now()
        )
        reply(MessageSentFrame(id: id, created: created, message: message))
    }

    private func typing(id: String?, conversation raw: String) async throws {
        let conversation = try Self.conversationID(raw)
        guard context.hub.follows(connection, .conversation(conversation)) else { throw Problem.notFound("No such conversation.") }
        if context.typingLimiter.allow(
            user: connection.userID,
            conversation: conversation,
            now: context.now(),
            interval: context.configuration.typingInterval
        ), try await context.store.mayInteract(connection.userID, in: conversation) {
            try await context.bus.publish(.typing(conversationID: conversation, userID: connection.userID))
        }
        acknowledge(id, "typing")
    }

    private func presence(id: String?, status raw: String) async throws {
        guard let status = PresenceStatus(rawValue: raw), status != .offline else {
            throw Problem.invalidField("status", .invalidFormat, "`online` or `away`.")
        }
        if let changed = try await context.store.presenceChanged(connection.id, user: connection.userID, to: status, now: context.now()) {
            try await context.bus.publish(.presence(userID: connection.userID, status: changed, lastSeenAt: nil))
        }
        acknowledge(id, "presence")
    }

    // MARK: - Helpers

    /// The first frame starts delivery, unless it is a `resume`, which starts it after the replay.
    private mutating func startIfPending(with frame: ClientFrame?) {
        guard startPending else { return }
        startPending = false
        if case .resume? = frame { return }
        connection.send(.start)
    }

    private func acknowledge(_ id: String?, _ type: String) {
        guard let id else { return }
        reply(AckFrame(id: id, for: type))
    }

    /// Queues a reply, keeping its place among the events.
    private func reply(_ frame: some Encodable) {
        guard let text = try? WireJSON.text(frame) else { return }
        connection.send(.frame(text))
    }

    /// Answers with an `error` frame; too many in the window close the connection with 1008.
    private mutating func refuse(_ failure: FrameError) {
        reply(ErrorFrame(failure))
        let now = ContinuousClock.now
        refusals = refusals.filter { now - $0 < context.configuration.badFrameWindow } + [now]
        if refusals.count > context.configuration.badFrameLimit { connection.terminate(.policyViolation) }
    }

    /// A token bucket: `frameBurst` at once, `framesPerSecond` sustained.
    private mutating func takeToken() -> Bool {
        let now = ContinuousClock.now
        let elapsed = Double((now - lastRefill) / .milliseconds(1)) / 1000
        lastRefill = now
        tokens = min(context.configuration.frameBurst, tokens + elapsed * context.configuration.framesPerSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private static func conversationID(_ raw: String) throws(Problem) -> UUID {
        guard let id = UUID(text: raw) else { throw Problem.notFound("No such conversation.") }
        return id
    }
}
