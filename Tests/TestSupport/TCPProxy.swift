import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 that a test can cut, to make a real server unreachable on demand.
package final class TCPProxy: Sendable {
    /// The port the proxy listens on.
    package let port: Int
    private let server: any Channel
    private let state = State()

    private final class State: Sendable {
        let connections = Mutex<[any Channel]>([])
        let isOpen = Atomic<Bool>(true)
        let isStalled = Atomic<Bool>(false)
    }

    /// Starts forwarding connections on a free port to `host:port`.
    package init(to host: String, port targetPort: Int) async throws {
        let state = state
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard state.isOpen.load(ordering: .relaxed) else { return inbound.close() }
                inbound.setOption(.autoRead, value: false).whenSuccess {}
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: host, port: targetPort)
                    .flatMapThrowing { outbound in
                        // A connection that completes after `cut` began must not outlive it: `cut` sets
                        // isOpen before it takes the list, so one of the two sees the other.
                        let admitted = state.connections.withLock { all in
                            guard state.isOpen.load(ordering: .relaxed) else { return false }
                            all += [inbound, outbound]
                            return true
                        }
                        guard admitted else {
                            inbound.close(promise: nil)
                            outbound.close(promise: nil)
                            return
                        }
                        // Both channels run on the same event loop, so both pipelines may be changed from here.
                        let (toTarget, toClient) = GlueHandler.pair()
                        try inbound.pipeline.syncOperations.addHandler(toTarget)
                        try outbound.pipeline.syncOperations.addHandler(toClient)
                        if !state.isStalled.load(ordering: .relaxed) { try inbound.syncOptions?.setOption(.autoRead, value: true) }
                    }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        self.server = server
        self.port = server.localAddress?.port ?? 0
    }

    /// Refuses new connections and closes the open ones, until `restore`.
    package func cut() async {
        state.isOpen.store(false, ordering: .relaxed)
        for channel in state.connections.withLock({ all in defer { all = [] }; return all }) {
            try? await channel.close()
        }
    }

    /// Accepts connections again.
    package func restore() {
        state.isOpen.store(true, ordering: .relaxed)
    }

    /// Stops forwarding bytes without closing anything, as a peer that hangs or a network that
    /// drops everything does: new connections are accepted and go nowhere too. Until `unstall`.
    package func stall() async {
        state.isStalled.store(true, ordering: .relaxed)
        for channel in state.connections.withLock({ $0 }) {
            try? await channel.setOption(.autoRead, value: false)
        }
    }

    /// Forwards again what waited and what comes.
    package func unstall() async {
        state.isStalled.store(false, ordering: .relaxed)
        for channel in state.connections.withLock({ $0 }) {
            try? await channel.setOption(.autoRead, value: true)
        }
    }

    /// Stops listening and closes every connection.
    package func stop() async {
        await cut()
        try? await server.close()
    }
}

/// Copies bytes between the two channels of a proxied connection and closes both together.
private final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?

    static func pair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.write(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close()
    }

    private func write(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func flush() {
        context?.flush()
    }

    private func close() {
        context?.close(promise: nil)
    }
}
