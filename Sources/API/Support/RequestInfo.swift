/// What the server knows of the request being handled, bound for its whole handling.
package struct RequestInfo: Sendable {
    /// The caller's `X-Request-Id`, or one generated for this request; echoed in the response.
    package var requestID: String
    /// The peer's address, for per-address limits.
    package var clientAddress: String?
    /// The `User-Agent` header, recorded with new sessions.
    package var userAgent: String?

    package init(requestID: String, clientAddress: String?, userAgent: String?) {
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.userAgent = userAgent
    }

    /// The request being handled, bound by the outermost router middleware.
    @TaskLocal package static var current: RequestInfo?
}
