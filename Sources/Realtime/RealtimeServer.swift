package import Auth
package import Bus
package import Foundation
package import Logging
import Models
import Metrics
package import NIOCore
package import NIOHTTP1
import NIOWebSocket
import ServiceLifecycle
package import Store
import Synchronization

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
            nodeID: UUID().lowercased,
            now: now,
            logger: logger
        )
    }

    /// The connections open on this node.
    package var connectionCount: Int { context.hub.count }

    /// Items waiting to be written to this node's connections: in all, and to the furthest behind.
    package var queued: (total: Int, largest: Int) { context.hub.queued }

    /// Whether an HTTP request asks for the realtime endpoint from where it may be opened.
    ///
    /// A browser names the web page that opens the socket (`http(s)://…`, or `null`): only this
    /// server's own pages and the allowed origins may (a page elsewhere must not act with a user's
    /// token unbidden). Apps and scripts send no Origin, or their own `ws://` one.
    package func shouldUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first == Self.path[...] else { return false }
        guard let origin = head.headers.first(name: "Origin"), origin == "null" || origin.hasPrefix("http://") || origin.hasPrefix("https://") else {
            return true
        }
        let ownOrigins = ["http://", "https://"].compactMap { scheme in head.headers.first(name: "Host").map { scheme + $0 } }
        return ownOrigins.contains(origin) || context.configuration.allowedOrigins.contains(origin)
    }

    /// The largest client frame, for the WebSocket frame decoder.
    package var maxFrameSize: Int { context.configuration.maxFrameSize }

    /// Makes an upgraded channel's pipeline serve the realtime protocol to the client of `head`.
    /// Call on the channel's event loop.
    package func attach(to channel: any Channel, head: HTTPRequestHead) throws {
        let configuration = context.configuration
        // A forwarding header given on several lines counts as one list.
        let joined = { (name: String) -> String? in
            let lines = head.headers[name]
            return lines.isEmpty ? nil : lines.joined(separator: ", ")
        }
        let address = configuration.trustedProxies.clientAddress(
            peer: channel.remoteAddress?.ipAddress,
            forwardedFor: joined("X-Forwarded-For"),
            forwarded: joined("Forwarded")
        )
        try channel.pipeline.syncOperations.addHandlers([
            NIOWebSocketFrameAggregator(
                minNonFinalFragmentSize: 0,
                maxAccumulatedFrameCount: 1024,
                maxAccumulatedFrameSize: configuration.maxFrameSize
            ),
            RealtimeSocket(server: context, authorization: head.headers.first(name: "Authorization"), address: address),
        ])
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { [databaseReady] in
            for await _ in databaseReady {}
        }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        let bus = context.bus.subscribe()
        // Presence notices wait here for their audience to be read; past 10,000 the oldest are
        // dropped — a presence notice matters only while it is news.
        let (presence, presenceQueue) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
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
            case .event(let event, let committedAt):
                if let committedAt { BusMetrics.lag.record(duration: ContinuousClock.now - committedAt) }
                context.hub.route(event)
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
}

/// What `/metrics` shows of the bus.
private enum BusMetrics {
    /// From the commit of an event this node wrote to its routing to this node's connections.
    static let lag = Timer(label: "parley_bus_lag_seconds")
}
