import HTTPTypes
import Hummingbird

/// Lets web pages on other origins use the REST API: for an `Origin` in the allowed list it adds
/// the CORS headers to every answer and answers preflight requests itself. Access tokens travel as
/// bearer headers, never cookies, so no credentials mode is needed.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedOrigins: Set<String>

    static var allowedHeaders: String { "Authorization, Content-Type, X-Request-Id, If-None-Match, Range" }
    static var exposedHeaders: String { "Retry-After, X-Request-Id, ETag, Location, Content-Disposition, Content-Range" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(status: .noContent, headers: headers(for: origin, preflight: true))
        }
        var response = try await next(request, context)
        for field in headers(for: origin, preflight: false) { response.headers[field.name] = field.value }
        return response
    }

    private func headers(for origin: String, preflight: Bool) -> HTTPFields {
        var fields: HTTPFields = [.accessControlAllowOrigin: origin, .vary: "Origin"]
        if preflight {
            fields[.accessControlAllowMethods] = "GET, HEAD, POST, PUT, PATCH, DELETE"
            fields[.accessControlAllowHeaders] = Self.allowedHeaders
            fields[.accessControlMaxAge] = "600"
        } else {
            fields[.accessControlExposeHeaders] = Self.exposedHeaders
        }
        return fields
    }
}
