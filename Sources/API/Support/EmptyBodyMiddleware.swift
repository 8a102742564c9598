import HTTPTypes
import OpenAPIRuntime

/// Passes an empty request body on as no body. The Hummingbird transport always hands operations a
/// body, so without this an optional body could not be left out: `PUT /contacts/{id}` with
/// `Content-Type: application/json` and nothing after it would be malformed JSON rather than no nickname.
struct EmptyBodyMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        try await next(request, body?.length == .known(0) ? nil : body, metadata)
    }
}
