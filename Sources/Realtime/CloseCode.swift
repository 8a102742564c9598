import NIOWebSocket

/// Why the server closes a connection: 4000-4499 mean "reconnect (after fixing what the reason
/// says)", 4500-4999 "do not reconnect as you were"; standard codes keep their RFC 6455 meaning.
package struct CloseCode: Sendable, Equatable, CustomStringConvertible {
    package let code: UInt16
    package let reason: String

    /// The server is shutting down or restarting: reconnect, to this node or another, and resume.
    package static let goingAway = CloseCode(code: 1001, reason: "server going away")
    /// Too many invalid frames: a client bug.
    package static let policyViolation = CloseCode(code: 1008, reason: "too many invalid frames")
    /// A frame over the size limit (sent by the WebSocket layer itself).
    package static let tooBig = CloseCode(code: 1009, reason: "frame too big")
    package static let internalError = CloseCode(code: 1011, reason: "internal error")
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
        .goingAway, .policyViolation, .tooBig, .internalError, .authenticationFailed, .slowConsumer, .tooManyConnections, .sessionRevoked,
    ]

    package var description: String { "\(code) \(reason)" }

    var webSocketCode: WebSocketErrorCode { WebSocketErrorCode(codeNumber: Int(code)) }
}
