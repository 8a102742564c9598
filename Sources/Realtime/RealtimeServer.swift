package import Auth
package import Bus
package import Foundation
package import Hummingbird
package import HummingbirdWebSocket
package import Logging
import Models
package import NIOCore
import ServiceLifecycle
package import Store
import Synchronization

/// A WebSocket request context that lets the realtime service reach the connection's channel,
/// so it can drop a client that stopped reading.
package protocol RealtimeRequestContext: WebSocketRequestContext {
    var channel: any Channel { get }
}

/// The realtime service: the WebSocket endpoint, the hub that fans committed events out to the
/// connections of this node, presence, and typing.
///
/// As a `Service` it routes the bus into the hub and keeps presence; on graceful shutdown it closes
/// every connection with 1001 and waits for them to go before returning, so run it so that it stops
/// before the HTTP server does.
package final class RealtimeServer: Service {
    /// The path of the WebSocket endpoint.
    package static let path = "/api/v1/realtime"

    let context: RealtimeContext
    let databaseReady: AsyncStream<Void>

    /// - Parameter databaseReady: finishes once the schema is migrated; the service touches the
    ///   database only after that.
    package init(
        store: Store,
        bus: EventBus,
        authenticator: Authenticator,
        configuration: RealtimeConfiguration,
        databaseReady: AsyncStream<Void>,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.databaseReady = databaseReady
        context = RealtimeContext(
            store: store,
            bus: bus,
            authenticator: authenticator,
            hub: Hub(),
            configuration: configuration,
            nodeID: UUID().uuidString.lowercased(),
            now: now,
            logger: logger
        )
    }

    /// The connections open on this node.
    package var connectionCount: Int { context.hub.count }

    /// Adds the WebSocket endpoint to a router built for WebSocket upgrades.
    package func registerRoutes<Context: RealtimeRequestContext>(on router: Router<Context>) {
        let context = context
        router.ws(RouterPath(Self.path)) { inbound, outbound, request in
            await ConnectionHandler(
                context: context,
                inbound: inbound,
                outbound: outbound,
                channel: request.requestContext.channel,
                authorization: request.request.headers[.authorization]
            ).run()
        }
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { [databaseReady] in
            for await _ in databaseReady {}
        }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        let bus = context.bus.subscribe()
        let (presence, presenceQueue) = AsyncStream<Signal>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.route(bus, presence: presenceQueue) }
            group.addTask { await self.announce(presence) }
            group.addTask { await self.renewPresence() }
            group.addTask { await self.sweepPresence() }
            try? await gracefulShutdown()
            context.hub.closeAll(.goingAway)
            for _ in 0..<250 where context.hub.count > 0 { try? await Task.sleep(for: .milliseconds(20)) }
            group.cancelAll()
        }
    }

    // MARK: - The bus

    private func route(_ bus: AsyncStream<BusItem>, presence: AsyncStream<Signal>.Continuation) async {
        for await item in bus {
            switch item {
            case .event(let event):
                do {
                    context.hub.route(try FramedEvent(event))
                } catch {
                    context.logger.error("Could not encode an event", metadata: ["error": "\(error)"])
                }
            case .signal(let signal):
                if case .typing(let conversationID, let userID) = signal {
                    guard let frame = try? WireJSON.text(signal) else { continue }
                    context.hub.routeTyping(conversationID: conversationID, userID: userID, frame: frame)
                } else {
                    presence.yield(signal)
                }
            case .reconnected:
                context.hub.broadcast(.refill)
            }
        }
        presence.finish()
    }

    /// Tells the contacts and co-members connected here that someone's presence changed.
    private func announce(_ signals: AsyncStream<Signal>) async {
        for await signal in signals {
            guard case .presence(let userID, _, _) = signal else { continue }
            do {
                let audience = try await context.store.presenceAudience(of: userID).intersection(context.hub.users)
                guard !audience.isEmpty else { continue }
                let frame = try WireJSON.text(signal)
                context.hub.route(frame: frame, to: audience)
            } catch {
                if !Task.isCancelled { context.logger.error("Could not announce a presence change", metadata: ["error": "\(error)"]) }
            }
        }
    }

    // MARK: - Presence

    /// Renews this node's claim on its open connections, so that they count as long as the node lives.
    private func renewPresence() async {
        while (try? await Task.sleep(for: context.configuration.presenceRenewInterval)) != nil {
            let now = context.now()
            do {
                try await context.store.presenceRenewed(
                    node: context.nodeID,
                    connections: context.hub.connectionIDs,
                    until: now.addingTimeInterval(context.configuration.presenceLease),
                    now: now
                )
            } catch {
                if !Task.isCancelled { context.logger.error("Could not renew presence", metadata: ["error": "\(error)"]) }
            }
        }
    }

    /// Turns lapsed claims — closed connections past their grace, nodes that died — into departures.
    private func sweepPresence() async {
        while (try? await Task.sleep(for: context.configuration.presenceSweepInterval)) != nil {
            let now = context.now()
            do {
                for userID in try await context.store.presenceExpired(now: now) {
                    try await context.bus.publish(.presence(userID: userID, status: .offline, lastSeenAt: now))
                }
            } catch {
                if !Task.isCancelled { context.logger.error("Could not expire presence", metadata: ["error": "\(error)"]) }
            }
        }
    }
}

/// What every connection of a node shares.
struct RealtimeContext: Sendable {
    let store: Store
    let bus: EventBus
    let authenticator: Authenticator
    let hub: Hub
    let configuration: RealtimeConfiguration
    /// Names this process in the presence table.
    let nodeID: String
    let now: @Sendable () -> Date
    let logger: Logger
    let typingLimiter = TypingLimiter()
}

/// At most one typing notice per user and conversation per interval, across this node's connections.
final class TypingLimiter: Sendable {
    private let lastSent = Mutex<[String: Date]>([:])

    func allow(user: UUID, conversation: UUID, now: Date, interval: TimeInterval) -> Bool {
        let key = "\(user):\(conversation)"
        return lastSent.withLock { lastSent in
            if let last = lastSent[key], now.timeIntervalSince(last) < interval { return false }
            if lastSent.count > 10_000 { lastSent = lastSent.filter { now.timeIntervalSince($0.value) < interval } }
            lastSent[key] = now
            return true
        }
    }
}
