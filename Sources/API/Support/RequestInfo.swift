package import Auth

/// What the server knows of the request being handled, bound for its whole handling.
package struct RequestInfo: Sendable {
    /// The caller's `X-Request-Id`, or one generated for this request; echoed in the response.
    package var requestID: String
    /// The client's address — the peer's, or behind a trusted proxy the one it forwarded — for
    /// per-address limits and logs.
    package var clientAddress: IPAddress?
    /// The `User-Agent` header, recorded with new sessions.
    package var userAgent: String?

    package init(requestID: String, clientAddress: IPAddress?, userAgent: String?) {
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.userAgent = userAgent
    }

    /// The request being handled, bound by the outermost router middleware.
    @TaskLocal package static var current: RequestInfo?
}
