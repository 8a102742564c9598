import API
import HTTPTypes
import Hummingbird

/// Answers 405 `method_not_allowed`, with `Allow`, for a method the spec does not declare on a path
/// it does: `TRACE /api/v1/auth/login` is a wrong method, not a missing page. The table is read
/// from the served `openapi.yaml` itself, so it cannot drift from the routes generated from it.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// One path of the spec: its segments (nil for a `{parameter}`) and its methods.
    struct Path: Sendable {
        var segments: [String?]
        var methods: Set<HTTPRequest.Method>
    }

    let paths: [Path]
    let basePath: String

    init(spec: String, basePath: String) {
        self.basePath = basePath
        self.paths = Self.paths(in: spec)
    }

    /// Only a request no route took (the router's 404) is looked up: the table costs nothing on
    /// the way to a handler.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let requestPath = request.uri.path
            guard requestPath.hasPrefix(basePath + "/"), let path = match(requestPath.dropFirst(basePath.count)) else { throw error }
            let allowed = path.methods.contains(.get) ? path.methods.union([.head]) : path.methods
            guard !allowed.contains(request.method), request.method != .options else { throw error }
            return refusal(request.method, allowed: allowed)
        }
    }

    private func refusal(_ method: HTTPRequest.Method, allowed: Set<HTTPRequest.Method>) -> Response {
        let answer = ProblemResponse.problem(forStatus: 405, detail: "\(method.rawValue) is not one of this path's methods.")
        var response = RequestMiddleware<AppRequestContext>.response(for: answer, requestID: RequestInfo.current?.requestID ?? "-")
        response.headers[.allow] = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return response
    }

    /// The spec's path for `path`; where two fit (`/conversations/direct`, `/conversations/{id}`),
    /// the one with more fixed segments, as the router chooses.
    private func match(_ path: Substring) -> Path? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return paths.filter { candidate in
            candidate.segments.count == segments.count
                && zip(candidate.segments, segments).allSatisfy { expected, actual in expected.map { $0 == actual } ?? !actual.isEmpty }
        }.max { $0.segments.compactMap(\.self).count < $1.segments.compactMap(\.self).count }
    }

    /// The paths and methods under `paths:` of an OpenAPI document laid out as Parley's is: a path
    /// two spaces in, its methods four.
    static func paths(in spec: String) -> [Path] {
        var paths: [Path] = []
        var inPaths = false
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line.hasPrefix("paths:") }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                let template = line.dropFirst(2).dropLast()
                let segments = template.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
                paths.append(Path(segments: segments, methods: []))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"), !paths.isEmpty,
                let method = HTTPRequest.Method(String(line.dropFirst(4).dropLast()).uppercased()),
                ["GET", "PUT", "POST", "DELETE", "PATCH"].contains(method.rawValue)
            {
                paths[paths.count - 1].methods.insert(method)
            }
        }
        return paths
    }
}
