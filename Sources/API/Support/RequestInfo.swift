/// What the server knows of the request being handled, bound for its whole handling.
public struct RequestInfo: Sendable {
    /// The caller's `X-Request-Id`, or one generated for this request; echoed in the response.
    public var requestID: String
    /// The peer's address, for per-address limits.
    public var clientAddress: String?
    /// The `User-Agent` header, recorded with new sessions.
    public var userAgent: String?

    public init(requestID: String, clientAddress: String?, userAgent: String?) {
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.userAgent = userAgent
    }

    /// The request being handled, bound by the outermost router middleware.
    @TaskLocal public static var current: RequestInfo?
}
