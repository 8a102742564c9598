import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Undoes the percent-encoding the OpenAPI runtime applies to response header values it sets from
/// the spec's headers (it encodes them as URI components, so `ETag: "abc"` would go out as
/// `ETag: %22abc%22`). Parley's header values never contain a literal `%`, so decoding is exact.
struct HeaderValueMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, body) = try await next(request, body, metadata)
        // On the bytes: Foundation's `contains` on a String searches through NSString, on every response.
        for index in response.headerFields.indices where response.headerFields[index].value.utf8.contains(UInt8(ascii: "%")) {
            let field = response.headerFields[index]
            if let decoded = field.value.removingPercentEncoding {
                response.headerFields[index] = HTTPField(name: field.name, value: decoded)
            }
        }
        return (response, body)
    }
}
