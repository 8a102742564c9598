package import Foundation

// The control frames the server sends, as asyncapi.yaml describes them. Logged events go out as
// `Event` itself, and typing and presence notices as `Signal`; none of these carries a `seq`.

/// Every type the server sends besides the logged events (`EventType.all`).
package let serverControlFrameTypes = [
    "hello", "resumed", "resync", "message.sent", "ack", "typing", "presence.changed", "pong", "error",
]

/// The first frame after authentication.
package struct HelloFrame: Encodable, Sendable {
    package let type = "hello"
    package var userID: UUID
    package var sessionID: UUID
    /// The position of each followed stream when the connection opened: the "now" that streams
    /// a `resume` does not name start from.
    package var streams: [String: Int64]
    package var limits: Limits

    /// The protocol's limits, as this server applies them.
    package struct Limits: Encodable, Sendable {
        package var maxFrameBytes: Int
        package var maxQueuedFrames: Int
        package var framesPerSecond: Double
        package var resumeWindowMilliseconds: Int

        package init(maxFrameBytes: Int, maxQueuedFrames: Int, framesPerSecond: Double, resumeWindowMilliseconds: Int) {
            self.maxFrameBytes = maxFrameBytes
            self.maxQueuedFrames = maxQueuedFrames
            self.framesPerSecond = framesPerSecond
            self.resumeWindowMilliseconds = resumeWindowMilliseconds
        }
    }

    package init(userID: UUID, sessionID: UUID, streams: [StreamID: Int64], limits: Limits) {
        self.userID = userID
        self.sessionID = sessionID
        self.streams = Dictionary(uniqueKeysWithValues: streams.map { ($0.key.rawValue, $0.value) })
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey {
        case type, streams, limits
        case userID = "userId"
        case sessionID = "sessionId"
    }
}

/// Ends a replay: every missed event of the named streams was sent.
package struct ResumedFrame: Encodable, Sendable, Equatable {
    package let type = "resumed"
    package var id: String?
    package var streams: [String: Int64]

    package init(id: String?, streams: [StreamID: Int64]) {
        self.id = id
        self.streams = Dictionary(uniqueKeysWithValues: streams.map { ($0.key.rawValue, $0.value) })
    }
}

/// Tells the client to refetch a stream over REST: it cannot be replayed from its cursor.
package struct ResyncFrame: Encodable, Sendable, Equatable {
    /// Why a stream cannot be replayed.
    package enum Reason: String, Encodable, Sendable {
        /// Events since the cursor are no longer kept.
        case expired
        /// The cursor is past the stream's end.
        case ahead
        /// The connection does not follow that stream.
        case unknown
        /// Live events of the stream were already delivered when the resume came.
        case late
    }

    package let type = "resync"
    package var stream: StreamID
    package var reason: Reason
    package var lastSeq: Int64?

    package init(stream: StreamID, reason: Reason, lastSeq: Int64?) {
        self.stream = stream
        self.reason = reason
        self.lastSeq = lastSeq
    }
}

/// The answer to `message.send`.
package struct MessageSentFrame: Encodable, Sendable {
    package let type = "message.sent"
    package var id: String?
    /// False when the client message id was sent before: `message` is the original.
    package var created: Bool
    package var message: Message

    package init(id: String?, created: Bool, message: Message) {
        self.id = id
        self.created = created
        self.message = message
    }
}

/// Confirms a client frame that has no other answer.
package struct AckFrame: Encodable, Sendable {
    package let type = "ack"
    package var id: String?
    package var `for`: String

    package init(id: String?, for type: String) {
        self.id = id
        self.for = type
    }
}

/// The answer to `ping`.
package struct PongFrame: Encodable, Sendable {
    package let type = "pong"
    package var id: String?

    package init(id: String?) {
        self.id = id
    }
}

/// Refuses a client frame, with the same codes as REST problems.
package struct ErrorFrame: Encodable, Sendable {
    package let type = "error"
    package var id: String?
    package var code: String
    package var title: String
    package var detail: String?

    package init(_ problem: Problem, id: String?) {
        self.id = id
        self.code = problem.code.rawValue
        self.title = problem.title
        self.detail = problem.detail
    }

    package init(_ failure: FrameError) {
        self.id = failure.id
        self.code = failure.code.rawValue
        self.title = "Frame refused"
        self.detail = failure.detail
    }
}
