import Hummingbird
import HummingbirdWebSocket
import Realtime
import NIOCore

/// The request context of every route: Hummingbird's core context plus the peer's address.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The request context of WebSocket upgrades: the realtime service needs the channel, to drop a
/// client that stopped reading.
public struct AppWebSocketRequestContext: RequestContext, RealtimeRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}
