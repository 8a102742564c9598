package import Auth
package import Foundation

/// The limits and timings of the realtime service; the defaults are the documented protocol.
package struct RealtimeConfiguration: Sendable {
    /// The largest client frame; bigger ones close the connection with 1009.
    package var maxFrameSize = 64 * 1024
    /// Frames waiting to be written to one connection, at most; a connection past this is a slow consumer.
    package var maxQueuedFrames = 1000
    /// Bytes waiting to be written to one connection, at most.
    package var maxQueuedBytes = 4 * 1024 * 1024
    /// How long a connection without an `Authorization` header has to send its `auth` frame.
    package var authTimeout: Duration = .seconds(5)
    /// How long after `hello` the server waits for a `resume` before it starts delivering events.
    package var resumeWindow: Duration = .seconds(1)
    /// Client frames per second a connection may send, sustained…
    package var framesPerSecond = 20.0
    /// …and in a burst.
    package var frameBurst = 40.0
    /// Invalid or refused frames within `badFrameWindow` that get a connection closed with 1008.
    package var badFrameLimit = 10
    package var badFrameWindow: Duration = .seconds(10)
    /// At most one `typing` per user and conversation in this interval; more are dropped silently.
    package var typingInterval: TimeInterval = 2
    /// How often the server pings; a peer that misses a pong is dropped.
    package var pingInterval: Duration = .seconds(25)
    /// How long a user stays online after their last connection closes.
    package var presenceGrace: TimeInterval = 5
    /// How long a node's claim that a connection is open lasts unless renewed.
    package var presenceLease: TimeInterval = 45
    /// How often a node renews its claims and looks for lapsed ones.
    package var presenceRenewInterval: Duration = .seconds(15)
    package var presenceSweepInterval: Duration = .seconds(2)
    /// Events kept in the log for resuming; older cursors get `resync`.
    package var eventRetention: TimeInterval = 30 * 24 * 3600
    /// Events read from the log per query when replaying.
    package var replayPageSize = 500
    /// Connections one user may have open on one node; one more is closed with 4010.
    package var maxConnectionsPerUser = 32
    /// Connections one client address (an IPv6 client's /64) may have open on one node; one more is
    /// closed with 4010.
    package var maxConnectionsPerAddress = 1024
    /// Web pages of other origins that may open connections; a page of this server's own origin
    /// always may, and so may clients that send no `Origin` (apps, scripts).
    package var allowedOrigins: Set<String> = []
    /// Reverse proxies whose forwarding headers name the client's address.
    package var trustedProxies = TrustedProxies()

    package init() {}
}
