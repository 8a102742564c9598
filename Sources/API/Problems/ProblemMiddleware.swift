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
