import Auth
import HTTPTypes
import OpenAPIRuntime

/// Requires a valid bearer token for every operation but the public ones, and binds its `Identity`
/// for the handler. Refusals are thrown as `unauthorized` problems, which the `ProblemMiddleware`
/// renders with `WWW-Authenticate: Bearer`.
struct AuthenticationMiddleware: ServerMiddleware {
    /// The operations declared with `security: []` in openapi.yaml (a test keeps the two in step).
    static let publicOperations: Set<String> = [
        "register", "login", "refreshTokens", "requestPasswordReset", "confirmPasswordReset", "verifyEmail", "getMedia", "downloadExport",
    ]

    let authenticator: Authenticator

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        RequestInfo.current?.outcome.record(operation: operationID)
        if Self.publicOperations.contains(operationID) {
            return try await next(request, body, metadata)
        }
        let identity = try await authenticator.authenticate(authorization: request.headerFields[.authorization])
        RequestInfo.current?.outcome.record(user: identity.userID)
        return try await Identity.$current.withValue(identity) {
            try await next(request, body, metadata)
        }
    }
}
