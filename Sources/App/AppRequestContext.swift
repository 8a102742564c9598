package import Hummingbird
package import HummingbirdWebSocket
import Realtime
package import NIOCore

/// The request context of every route: Hummingbird's core context plus the peer's address.
package struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: SocketAddress?

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The request context of WebSocket upgrades: the realtime service needs the channel, to drop a
/// client that stopped reading.
package struct AppWebSocketRequestContext: RequestContext, RealtimeRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let webSocket: WebSocketHandlerReference<Self>
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}
