import Foundation
import HTTPTypes
import Logging
import Models
import OpenAPIRuntime

/// The outermost OpenAPI middleware: every error of an operation — a `Problem` a handler threw, a
/// body or parameter the generated code could not decode, anything unexpected — leaves as problem+json.
///
/// Unexpected errors answer a generic `internal_error` and are logged with the operation and the
/// request id, but never with the request, its body or the decoded input, which may hold passwords.
struct ProblemMiddleware: ServerMiddleware {
    let logger: Logger

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, metadata)
        } catch {
            let answer = problem(for: error, operationID: operationID)
            let requestID = RequestInfo.current?.requestID
            return (
                HTTPResponse(status: .init(code: answer.status), headerFields: ProblemResponse.headerFields(for: answer)),
                HTTPBody(ProblemResponse.body(for: answer, requestID: requestID))
            )
        }
    }

    private func problem(for error: any Error, operationID: String) -> HTTPProblem {
        if let answer = HTTPProblem.answering(error) { return answer }
        guard let serverError = error as? ServerError else {
            log(error, cause: "middleware", operationID: operationID)
            return HTTPProblem(.internalError)
        }
        if let answer = HTTPProblem.answering(serverError.underlyingError) { return answer }
        switch serverError.underlyingError {
        case let decodingError as DecodingError:
            // A query parameter's decoding error names no field: find the parameter by its value.
            if decodingError.codingPath.isEmpty, let (name, type) = Self.malformedQueryParameter(in: serverError.request) {
                return HTTPProblem(.invalidField(name, .invalidType, "Expected \(type == "integer" ? "an integer" : "true or false")."))
            }
            return HTTPProblem(Problem(decodingError: decodingError))
        default:
            let status = serverError.httpStatus.code
            if (400..<500).contains(status) {
                // The runtime's own refusals (a missing parameter, a wrong content type): their text names
                // the parameter or type at fault, never a value.
                return ProblemResponse.problem(forStatus: status, detail: serverError.causeDescription)
            }
            log(serverError.underlyingError, cause: serverError.causeDescription, operationID: operationID)
            return HTTPProblem(.internalError)
        }
    }

    /// The spec's query parameters that are not strings, with their JSON Schema type (SpecTests
    /// keeps this equal to openapi.yaml).
    static let typedQueryParameters = ["limit": "integer", "before": "integer", "after": "integer", "exp": "integer", "unread": "boolean"]

    /// The first typed query parameter of `request` whose value its type cannot read.
    static func malformedQueryParameter(in request: HTTPRequest) -> (name: String, type: String)? {
        guard let path = request.path, let query = path.firstIndex(of: "?") else { return nil }
        for item in URLComponents(string: String(path[query...]))?.queryItems ?? [] {
            guard let type = typedQueryParameters[item.name] else { continue }
            let value = item.value ?? ""
            if type == "integer" ? Int64(value) == nil : !["true", "false"].contains(value) { return (item.name, type) }
        }
        return nil
    }

    private func log(_ error: any Error, cause: String, operationID: String) {
        logger.error(
            "Operation failed",
            metadata: [
                "operation": "\(operationID)",
                "cause": "\(cause)",
                "error.type": "\(String(reflecting: type(of: error)))",
                "error": "\(error)",
                "request.id": "\(RequestInfo.current?.requestID ?? "-")",
            ]
        )
    }
}

extension DecodingError {
    /// Where in the value the error is; empty at its root (as for a query parameter).
    fileprivate var codingPath: [any CodingKey] {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath
        @unknown default: []
        }
    }
}
