import Foundation

/// The limits and timings of the realtime service; the defaults are the documented protocol.
public struct RealtimeConfiguration: Sendable {
    /// The largest client frame; bigger ones close the connection with 1009.
    public var maxFrameSize = 64 * 1024
    /// Frames waiting to be written to one connection, at most; a connection past this is a slow consumer.
    public var maxQueuedFrames = 1000
    /// Bytes waiting to be written to one connection, at most.
    public var maxQueuedBytes = 4 * 1024 * 1024
    /// How long a connection without an `Authorization` header has to send its `auth` frame.
    public var authTimeout: Duration = .seconds(5)
    /// How long after `hello` the server waits for a `resume` before it starts delivering events.
    public var resumeWindow: Duration = .seconds(1)
    /// Client frames per second a connection may send, sustained…
    public var framesPerSecond = 20.0
    /// …and in a burst.
    public var frameBurst = 40.0
    /// Invalid or refused frames within `badFrameWindow` that get a connection closed with 1008.
    public var badFrameLimit = 10
    public var badFrameWindow: Duration = .seconds(10)
    /// At most one `typing` per user and conversation in this interval; more are dropped silently.
    public var typingInterval: TimeInterval = 2
    /// How often the server pings; a peer that misses a pong is dropped.
    public var pingInterval: Duration = .seconds(25)
    /// How long a user stays online after their last connection closes.
    public var presenceGrace: TimeInterval = 5
    /// How long a node's claim that a connection is open lasts unless renewed.
    public var presenceLease: TimeInterval = 45
    /// How often a node renews its claims and looks for lapsed ones.
    public var presenceRenewInterval: Duration = .seconds(15)
    public var presenceSweepInterval: Duration = .seconds(2)
    /// Events kept in the log for resuming; older cursors get `resync`.
    public var eventRetention: TimeInterval = 30 * 24 * 3600
    /// Events read from the log per query when replaying.
    public var replayPageSize = 500

    public init() {}
}
