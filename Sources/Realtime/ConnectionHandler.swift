import Auth
import Foundation
import HummingbirdWebSocket
import Models
import NIOCore
import Store
import Logging
import Bus
import Metrics

/// Runs one client's WebSocket from authentication to close: a reader (the handler's own task)
/// that answers client frames, and a writer task that delivers events in order, exactly once.
struct ConnectionHandler {
    let context: RealtimeContext
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter
    let channel: any Channel
    /// The upgrade request's `Authorization` header, if it had one.
    let authorization: String?
    /// The client's address, if known.
    let address: IPAddress?

    /// Throws what the WebSocket layer refused in the client's frames, for it to close with the
    /// matching code (1007 for text that is not UTF-8).
    func run() async throws {
        var messages = inbound.messages(maxSize: context.configuration.maxFrameSize).makeAsyncIterator()
        guard let (identity, cursors) = await authenticate(&messages) else {
            await close(.authenticationFailed)
            return
        }
        let connection = Connection(
            userID: identity.userID,
            sessionID: identity.sessionID,
            address: address?.limitKey,
            tokenExpiry: identity.expiresAt,
            configuration: context.configuration
        )
        if let refusal = context.hub.register(connection, limits: context.configuration) {
            await close(refusal)
            return
        }
        var refused: (any Error)?
        do {
            let positions = try await subscribe(connection)
            try await announceOnline(connection)
            connection.greet(try hello(connection, positions: positions))
            if let cursors { connection.send(.resume(id: nil, cursors: cursors)) }
            let timers = ConnectionTimers(connection: connection, loop: channel.eventLoop, now: context.now)
            timers.start(resumeWindow: context.configuration.resumeWindow)
            refused = await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var writer = DeliveryWriter(context: context, connection: connection, outbound: outbound, positions: positions)
                    await writer.run()
                    await closeSocket(for: connection)
                }
                var reader = Reader(context: context, connection: connection, startPending: cursors == nil)
                let refused = await reader.run(&messages)
                connection.outbox.terminate(.ended)
                // The writer finishes (and sends its close frame, if it has one) before the group ends.
                return refused
            }
            timers.stop()
        } catch {
            context.logger.error("Realtime connection failed", metadata: ["error": "\(error)"])
            connection.terminate(.closing(after: error))
            await closeSocket(for: connection)
        }
        context.hub.remove(connection)
        let graceUntil = context.now().addingTimeInterval(context.configuration.presenceGrace)
        try? await context.store.presenceDisconnected(connection.id, graceUntil: graceUntil)
        if let refused { throw refused }
    }

    // MARK: - Opening

    /// The identity of the upgrade's bearer token, or else of an `auth` frame sent in time (with the
    /// cursors it may carry); nil when neither is valid.
    private func authenticate(
        _ messages: inout WebSocketInboundMessageStream.AsyncIterator
    ) async -> (Identity, [String: Int64]?)? {
        if let authorization {
            guard let identity = try? await context.authenticator.authenticate(authorization: authorization) else { return nil }
            return (identity, nil)
        }
        let first = await withTaskGroup(of: Void.self) { group in
            // Without a header the first frame must be `auth`; a watchdog closes the socket if it does not come.
            group.addTask {
                guard (try? await Task.sleep(for: context.configuration.authTimeout)) != nil else { return }
                await close(.authenticationFailed)
            }
            let message = try? await messages.next()
            group.cancelAll()
            return message
        }
        guard case .text(let text)? = first, case .auth(let token, let cursors)? = try? ClientFrame.parse(text),
            let identity = try? await context.authenticator.authenticate(token: token)
        else { return nil }
        return (identity, cursors)
    }

    /// Follows the user's streams and returns each one's position now.
    ///
    /// The connection is registered first, so a `member.added` committed meanwhile reaches it
    /// through the hub. A removal committed between the read and the follow is caught by the next
    /// event of that stream: its seq leaves a gap, the gap is read from the log, and the removal in
    /// it ends the stream.
    private func subscribe(_ connection: Connection) async throws -> [StreamID: Int64] {
        let positions = try await context.store.streamPositions(of: connection.userID)
        context.hub.follow(connection, positions.keys)
        return positions
    }

    private func announceOnline(_ connection: Connection) async throws {
        let now = context.now()
        if let status = try await context.store.presenceConnected(
            connection.id,
            user: connection.userID,
            node: context.nodeID,
            status: .online,
            until: now.addingTimeInterval(context.configuration.presenceLease),
            now: now
        ) {
            try await context.bus.publish(.presence(userID: connection.userID, status: status, lastSeenAt: nil))
        }
    }

    private func hello(_ connection: Connection, positions: [StreamID: Int64]) throws -> String {
        let configuration = context.configuration
        return try WireJSON.text(
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

    // MARK: - Closing

    /// Sends the close frame the connection ended with; a peer that does not take it in time (it
    /// stopped reading) has its socket closed outright.
    private func closeSocket(for connection: Connection) async {
        guard case .close(let code)? = connection.outbox.termination else { return }
        await close(code)
    }

    private func close(_ code: CloseCode) async {
        Counter(label: "parley_websocket_closes_total", dimensions: [("code", "\(code.code)")]).increment()
        let outbound = outbound
        let sent = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                (try? await outbound.close(code.webSocketCode, reason: code.reason)) != nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(1))
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        if !sent { channel.close(promise: nil) }
    }
}
