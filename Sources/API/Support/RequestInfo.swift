package import Auth
package import Foundation
import Synchronization

/// What the server knows of the request being handled, bound for its whole handling.
package struct RequestInfo: Sendable {
    /// The caller's `X-Request-Id`, or one generated for this request; echoed in the response.
    package var requestID: String
    /// The client's address — the peer's, or behind a trusted proxy the one it forwarded — for
    /// per-address limits and logs; worked out when asked for, as most requests never ask.
    package var clientAddress: IPAddress? { address() }
    /// The `User-Agent` header, recorded with new sessions.
    package var userAgent: String?
    /// What handling learns that the access log reports.
    package let outcome = RequestOutcome()
    private let address: @Sendable () -> IPAddress?

    package init(requestID: String, clientAddress: @escaping @Sendable () -> IPAddress?, userAgent: String?) {
        self.requestID = requestID
        self.address = clientAddress
        self.userAgent = userAgent
    }

    /// The request being handled, bound by the outermost router middleware.
    @TaskLocal package static var current: RequestInfo?
}

/// The operation a request turned out to be and who made it, for its access-log line.
package final class RequestOutcome: Sendable {
    private let state = Mutex<(operation: String?, user: UUID?)>((nil, nil))

    package init() {}

    /// The spec's operation id, once the request was routed to one.
    package var operation: String? { state.withLock { $0.operation } }
    /// The signed-in user, once the token was verified.
    package var user: UUID? { state.withLock { $0.user } }

    func record(operation: String) { state.withLock { $0.operation = operation } }
    func record(user: UUID) { state.withLock { $0.user = user } }
}
