import Models
import NIOWebSocket

/// Why the server closes a connection: 4000-4499 mean "reconnect (after fixing what the reason
/// says)", 4500-4999 "do not reconnect as you were"; standard codes keep their RFC 6455 meaning.
package struct CloseCode: Sendable, Equatable, CustomStringConvertible {
    package let code: UInt16
    package let reason: String

    /// The server is shutting down or restarting: reconnect, to this node or another, and resume.
    package static let goingAway = CloseCode(code: 1001, reason: "server going away")
    /// A frame that breaks the WebSocket protocol: unmasked, or a fragment out of place.
    package static let protocolError = CloseCode(code: 1002, reason: "protocol error")
    /// A text frame that is not UTF-8 .
    package static let invalidText = CloseCode(code: 1007, reason: "invalid UTF-8")
    /// Too many invalid frames: a client bug.
    package static let policyViolation = CloseCode(code: 1008, reason: "too many invalid frames")
    /// A frame over the size limit .
    package static let tooBig = CloseCode(code: 1009, reason: "frame too big")
    package static let internalError = CloseCode(code: 1011, reason: "internal error")
    /// The database is unavailable (restarting, unreachable): reconnect after a few seconds and resume.
    package static let tryAgainLater = CloseCode(code: 1013, reason: "database unavailable")
    /// No valid access token: none in time, a bad one, or it expired. Reconnect with a fresh token.
    package static let authenticationFailed = CloseCode(code: 4001, reason: "authentication failed or expired")
    /// The connection fell too far behind the events sent to it. Reconnect and resume: nothing is lost.
    package static let slowConsumer = CloseCode(code: 4008, reason: "slow consumer")
    /// The user, or the client's address, has as many connections open as the server allows. Close
    /// another (a tab, a device) before reconnecting; reconnecting at once only meets the same limit.
    package static let tooManyConnections = CloseCode(code: 4010, reason: "too many connections")
    /// The session was revoked (logout, password change…). Sign in again before reconnecting.
    package static let sessionRevoked = CloseCode(code: 4501, reason: "session revoked")

    /// Every code the server sends itself, for the protocol description and its test.
    package static let all: [CloseCode] = [
        .goingAway, .protocolError, .invalidText, .policyViolation, .tooBig, .internalError, .tryAgainLater, .authenticationFailed, .slowConsumer, .tooManyConnections, .sessionRevoked,
    ]

    package var description: String { "\(code) \(reason)" }

    var webSocketCode: WebSocketErrorCode { WebSocketErrorCode(codeNumber: Int(code)) }

    /// How to close a connection that `error` ended.
    static func closing(after error: any Error) -> CloseCode {
        (error as? Problem)?.code == .unavailable ? .tryAgainLater : .internalError
    }
}
