import Auth
import Bus
import Foundation
import Logging
import Metrics
import Models
import NIOCore
import NIOWebSocket
import Store

/// One client's realtime WebSocket from its upgrade to its close, driven by its channel's event
/// loop: no task waits on an idle connection. Tasks run only while there is work that waits on the
/// database — opening the connection, answering client frames (`Inbox`), reading missed events
/// from the log — and hand their results back to the loop.
///
/// On the loop it answers pings, pings the client (one missed pong drops it), checks that text is
/// UTF-8, carries out the close handshake, and writes what the outbox holds — everything queued
/// with one flush — as the connection's `Delivery` decides. A peer that stops reading stops the
/// writing; the outbox then fills and the connection closes as a slow consumer.
final class RealtimeSocket: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        /// Authenticating and subscribing.
        case opening
        case open(Connection, ConnectionTimers)
        case closed
    }

    /// How long the peer has to answer a close frame before the socket is closed outright.
    static let closeTimeout = TimeAmount.seconds(2)

    private let server: RealtimeContext
    /// The upgrade request's `Authorization` header, if it had one, until it is used.
    private var authorization: String?
    /// The client's address, if known.
    private let address: IPAddress?

    private var context: ChannelHandlerContext!
    private var phase = Phase.opening
    /// What the open connection receives (mutated in place, never copied).
    private var delivery: Delivery?
    private var inbox: Inbox!
    /// Without an `Authorization` header the first frame must be `auth`, within `authTimeout`.
    private var authDeadline: Scheduled<Void>?
    private var pinger: RepeatedTask?
    /// The payload of the ping the client has yet to answer.
    private var unansweredPing: ByteBuffer?
    /// A read from the log is in flight: delivery waits for it.
    private var readingLog = false
    private var closeSent = false
    private var closeDeadline: Scheduled<Void>?
    /// A read the inbox held back while it was full.
    private var heldRead = false

    init(server: RealtimeContext, authorization: String?, address: IPAddress?) {
        self.server = server
        self.authorization = authorization
        self.address = address
    }

    /// This handler, for closures that run on its loop.
    private var bound: NIOLoopBound<RealtimeSocket> { NIOLoopBound(self, eventLoop: context.eventLoop) }

    // MARK: - Opening

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let socket = bound
        let loop = context.eventLoop
        inbox = Inbox(resumeReading: { loop.execute { socket.value.resumeReading() } })
        if let authorization {
            self.authorization = nil
            open(credential: .header(authorization))
        } else {
            authDeadline = loop.scheduleTask(in: TimeAmount(server.configuration.authTimeout)) {
                socket.value.sendClose(.authenticationFailed)
            }
        }
    }

    private enum Credential {
        case header(String)
        case frame(token: String, cursors: [String: Int64]?)
    }

    /// Authenticates, registers and subscribes the connection, queues `hello`, then opens it on the loop.
    private func open(credential: Credential) {
        let (server, address, socket, loop) = (server, address, bound, context.eventLoop)
        let cursors: [String: Int64]? = if case .frame(_, let cursors) = credential { cursors } else { nil }
        Task {
            let identity: Identity? =
                switch credential {
                case .header(let header): try? await server.authenticator.authenticate(authorization: header)
                case .frame(let token, _): try? await server.authenticator.authenticate(token: token)
                }
            guard let identity else {
                loop.execute { socket.value.sendClose(.authenticationFailed) }
                return
            }
            let connection = Connection(
                userID: identity.userID,
                sessionID: identity.sessionID,
                address: address?.limitKey,
                tokenExpiry: identity.expiresAt,
                configuration: server.configuration,
                wake: { loop.execute { socket.value.drain() } }
            )
            if let refusal = server.hub.register(connection, limits: server.configuration) {
                loop.execute { socket.value.sendClose(refusal) }
                return
            }
            var positions: [StreamID: Int64] = [:]
            do {
                positions = try await server.subscribe(connection)
                try await server.announceOnline(connection)
                connection.greet(try server.hello(connection, positions: positions))
                if let cursors { connection.send(.resume(id: nil, cursors: cursors)) }
            } catch {
                server.logger.error("Realtime connection failed", metadata: ["error": "\(error)"])
                connection.terminate(.closing(after: error))
            }
            loop.execute { [positions] in socket.value.opened(connection, positions: positions, startPending: cursors == nil) }
        }
    }

    private func opened(_ connection: Connection, positions: [StreamID: Int64], startPending: Bool) {
        guard case .opening = phase else {
            // The socket closed meanwhile.
            server.disconnected(connection)
            return
        }
        delivery = Delivery(
            userID: connection.userID,
            sessionID: connection.sessionID,
            positions: positions,
            pageSize: server.configuration.replayPageSize,
            maxHeld: server.configuration.maxQueuedFrames
        )
        let timers = ConnectionTimers(connection: connection, loop: context.eventLoop, now: server.now)
        timers.start(resumeWindow: server.configuration.resumeWindow)
        phase = .open(connection, timers)
        // Pinging starts with the open connection, so a slow opening cannot count as a missed pong;
        // until then the auth deadline (or the opening's own database work) bounds the wait.
        let (socket, interval) = (bound, TimeAmount(server.configuration.pingInterval))
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in socket.value.ping() }
        inbox.open(with: Reader(context: server, connection: connection, startPending: startPending))
        drain()
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            guard let text = String(validating: frame.unmaskedData.readableBytesView, as: UTF8.self) else {
                sendClose(.invalidText)
                return
            }
            received(.text(text))
        case .binary:
            received(.binary)
        case .ping:
            guard !closeSent else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            if frame.unmaskedData == unansweredPing { unansweredPing = nil }
        case .connectionClose:
            peerClosed(frame)
        default:
            break
        }
    }

    private func received(_ message: ClientMessage) {
        guard !closeSent else { return }
        if let deadline = authDeadline {
            // The frame that must be `auth`.
            deadline.cancel()
            authDeadline = nil
            guard case .text(let text) = message, case .auth(let token, let cursors)? = try? ClientFrame.parse(text) else {
                sendClose(.authenticationFailed)
                return
            }
            open(credential: .frame(token: token, cursors: cursors))
            return
        }
        inbox.push(message)
    }

    /// Holds reads back while the inbox is full.
    func read(context: ChannelHandlerContext) {
        if inbox.isFull {
            heldRead = true
        } else {
            context.read()
        }
    }

    private func resumeReading() {
        guard heldRead else { return }
        heldRead = false
        context.read()
    }

    // MARK: - Writing

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        drain()
        context.fireChannelWritabilityChanged()
    }

    /// Writes what the outbox holds, with one flush, until it is empty, the socket cannot take more,
    /// or a log read is needed; the outbox wakes the loop for what comes next.
    private func drain() {
        guard case .open(let connection, _) = phase else { return }
        if let termination = connection.outbox.termination {
            finish(termination)
            return
        }
        guard !readingLog else { return }
        defer { context.flush() }
        while context.channel.isWritable {
            guard case .item(let item) = connection.outbox.take() else { return }
            let actions: [Delivery.Action]
            switch item {
            case .frame(let text):
                write(text)
                continue
            case .event(let event):
                actions = delivery!.received(event)
            case .resume(let id, let cursors):
                let streams = Dictionary(cursors.map { (StreamID(rawValue: $0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
                actions = delivery!.resume(id: id, cursors: streams)
            case .start:
                actions = delivery!.start()
            case .refill:
                actions = delivery!.busReconnected()
            }
            guard perform(actions, for: connection) else { return }
        }
    }

    /// Carries out actions in order; false when the last one started a log read.
    private func perform(_ actions: [Delivery.Action], for connection: Connection) -> Bool {
        for action in actions {
            switch action {
            case .send(let event):
                write(event.text)
                DeliveryMetrics.delivered.increment()
            case .resync(let frame):
                if let text = try? WireJSON.text(frame) { write(text) }
                DeliveryMetrics.resyncs.increment()
            case .resumed(let frame):
                if let text = try? WireJSON.text(frame) { write(text) }
                DeliveryMetrics.resumes.increment()
            case .follow(let stream):
                server.hub.follow(connection, [stream])
            case .unfollow(let stream):
                server.hub.unfollow(connection, [stream])
            case .read(let stream, let after, let limit):
                readLog(for: connection) { store in
                    let events = try await store.framedEvents(in: stream, after: after, limit: limit)
                    DeliveryMetrics.readFromLog.increment(by: events.count)
                    return { $0.read(events) }
                }
                return false
            case .readPositions:
                let user = connection.userID
                readLog(for: connection) { store in
                    let positions = try await store.streamPositions(of: user)
                    return { $0.positionsRead(positions) }
                }
                return false
            case .close(let code):
                connection.terminate(code)
            }
        }
        return true
    }

    /// Reads from the log in a task; delivery waits, and goes on with what the answer brings.
    private func readLog(
        for connection: Connection,
        _ read: @escaping @Sendable (Store) async throws -> @Sendable (inout Delivery) -> [Delivery.Action]
    ) {
        readingLog = true
        let (store, socket, loop) = (server.store, bound, context.eventLoop)
        Task {
            do {
                let answer = try await read(store)
                loop.execute { socket.value.logRead(answer) }
            } catch {
                // The log could not be read (the database is unavailable, say): the client reconnects and resumes.
                connection.terminate(.closing(after: error))
                loop.execute { socket.value.logRead(nil) }
            }
        }
    }

    private func logRead(_ answer: (@Sendable (inout Delivery) -> [Delivery.Action])?) {
        readingLog = false
        guard case .open(let connection, _) = phase else { return }
        if let answer {
            let actions = answer(&delivery!)
            let done = perform(actions, for: connection)
            context.flush()
            guard done else { return }
        }
        drain()
    }

    private func write(_ text: String) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
    }

    // MARK: - Pings

    private func ping() {
        guard !closeSent else { return }
        if unansweredPing != nil {
            // The last ping went unanswered for a whole interval: the peer is gone.
            context.close(promise: nil)
            return
        }
        var payload = context.channel.allocator.buffer(capacity: 8)
        payload.writeInteger(UInt64.random(in: .min ... .max))
        unansweredPing = payload
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
    }

    // MARK: - Closing

    private func finish(_ termination: Termination) {
        switch termination {
        case .ended:
            if !closeSent { context.close(promise: nil) }
        case .close(let code):
            sendClose(code)
        }
    }

    /// Sends a close frame; a peer that does not answer it in time has its socket closed outright.
    private func sendClose(_ code: CloseCode) {
        guard !closeSent, context.channel.isActive else { return }
        closeSent = true
        if case .open(let connection, _) = phase { connection.terminate(code) }
        Counter(label: "parley_websocket_closes_total", dimensions: [("code", "\(code.code)")]).increment()
        var data = context.channel.allocator.buffer(capacity: 2 + code.reason.utf8.count)
        data.write(webSocketErrorCode: code.webSocketCode)
        data.writeString(code.reason)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        let socket = bound
        closeDeadline = context.eventLoop.scheduleTask(in: Self.closeTimeout) { socket.value.context.close(promise: nil) }
    }

    /// The client closes, or answers the server's close: echo its code and close the socket.
    private func peerClosed(_ frame: WebSocketFrame) {
        if case .open(let connection, _) = phase { connection.outbox.terminate(.ended) }
        guard !closeSent else {
            context.close(promise: nil)
            return
        }
        closeSent = true
        var data = frame.unmaskedData
        let code = data.readableBytes >= 2 ? data.readWebSocketErrorCode() ?? .normalClosure : .normalClosure
        var echo = context.channel.allocator.buffer(capacity: 2)
        echo.write(webSocketErrorCode: code)
        let socket = bound
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: echo))).whenComplete { _ in
            socket.value.context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case is NIOWebSocketError:
            // The frame decoder's own error handler sends the close (1009, or 1002) and closes.
            break
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge, NIOWebSocketFrameAggregator.Error.tooManyFragments:
            sendClose(.tooBig)
        case is NIOWebSocketFrameAggregator.Error:
            sendClose(.protocolError)
        default:
            // The connection broke.
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = phase
        phase = .closed
        delivery = nil
        pinger?.cancel()
        authDeadline?.cancel()
        closeDeadline?.cancel()
        (pinger, authDeadline, closeDeadline) = (nil, nil, nil)
        inbox.close()
        if case .open(let connection, let timers) = previous {
            timers.stop()
            connection.outbox.terminate(.ended)
            server.disconnected(connection)
        }
        context.fireChannelInactive()
    }
}

extension RealtimeContext {
    /// Follows the user's streams and returns each one's position now.
    ///
    /// The connection is registered first, so a `member.added` committed meanwhile reaches it
    /// through the hub. A removal committed between the read and the follow is caught by the next
    /// event of that stream: its seq leaves a gap, the gap is read from the log, and the removal in
    /// it ends the stream.
    fileprivate func subscribe(_ connection: Connection) async throws -> [StreamID: Int64] {
        let positions = try await store.streamPositions(of: connection.userID)
        hub.follow(connection, positions.keys)
        return positions
    }

    fileprivate func announceOnline(_ connection: Connection) async throws {
        let now = now()
        if let status = try await store.presenceConnected(
            connection.id,
            user: connection.userID,
            node: nodeID,
            status: .online,
            until: now.addingTimeInterval(configuration.presenceLease),
            now: now
        ) {
            try await bus.publish(.presence(userID: connection.userID, status: status, lastSeenAt: nil))
        }
    }

    fileprivate func hello(_ connection: Connection, positions: [StreamID: Int64]) throws -> String {
        try WireJSON.text(
            HelloFrame(
                userID: connection.userID,
                sessionID: connection.sessionID,
                streams: positions,
                limits: .init(
                    maxFrameBytes: configuration.maxFrameSize,
                    maxQueuedFrames: configuration.maxQueuedFrames,
                    framesPerSecond: configuration.framesPerSecond,
                    resumeWindowMilliseconds: Int(configuration.resumeWindow / .milliseconds(1))
                )
            )
        )
    }

    /// Forgets a closed connection; its user stays online for the grace period, unless another
    /// connection holds them there.
    fileprivate func disconnected(_ connection: Connection) {
        hub.remove(connection)
        let (store, graceUntil) = (store, now().addingTimeInterval(configuration.presenceGrace))
        Task { try? await store.presenceDisconnected(connection.id, graceUntil: graceUntil) }
    }
}

/// What `/metrics` counts of this node's deliveries. (Made once: a delivery is too frequent to look
/// its counter up each time.)
private enum DeliveryMetrics {
    /// Events written to sockets.
    static let delivered = Counter(label: "parley_events_delivered_total")
    /// Events read from the log for a connection: a resume, or a gap after the bus dropped some.
    static let readFromLog = Counter(label: "parley_events_replayed_total")
    static let resumes = Counter(label: "parley_resumes_total")
    static let resyncs = Counter(label: "parley_resyncs_total")
}
