package import Foundation
package import HTTPTypes
package import Models

/// A problem as REST answers it: with its HTTP status, which its code decides unless a handler
/// documents another (a wrong current password is 403, where a failed login is 401).
package struct HTTPProblem: Error, Sendable, Equatable {
    package var problem: Problem
    package var status: Int

    package init(_ problem: Problem, status: Int? = nil) {
        self.problem = problem
        self.status = status ?? problem.code.httpStatus
    }

    /// The answer an error stands for, if it is a problem.
    package static func answering(_ error: any Error) -> HTTPProblem? {
        switch error {
        case let answer as HTTPProblem: answer
        case let problem as Problem: HTTPProblem(problem)
        default: nil
        }
    }
}

extension ErrorCode {
    /// The HTTP status of each code: the one table of them.
    package var httpStatus: Int { Self.httpStatuses[self] ?? 500 }

    private static let httpStatuses: [ErrorCode: Int] = [
        .badRequest: 400, .validationFailed: 400, .invalidToken: 400, .invalidFrame: 400, .unknownType: 400,
        .unauthorized: 401, .invalidCredentials: 401, .invalidRefreshToken: 401,
        .forbidden: 403,
        .notFound: 404,
        .methodNotAllowed: 405,
        .notAcceptable: 406,
        .usernameTaken: 409, .emailTaken: 409, .groupFull: 409, .ownerMustTransfer: 409, .messageDeleted: 409,
        .tooManyConversations: 409,
        .payloadTooLarge: 413,
        .unsupportedMediaType: 415,
        .rangeNotSatisfiable: 416,
        .imageTooLarge: 422, .unreadableImage: 422,
        .upgradeRequired: 426,
        .rateLimited: 429,
        .internalError: 500,
        .unavailable: 503,
    ]
}

/// Renders a problem as an RFC 9457 `application/problem+json` response: the one shape of every
/// error this server answers, whichever layer refused the request.
package enum ProblemResponse {
    /// The media type of every error body.
    package static let contentType = "application/problem+json"

    /// The JSON body, with the request id as `instance`.
    package static func body(for answer: HTTPProblem, requestID: String?) -> Data {
        let problem = answer.problem
        let document = Document(
            type: "urn:parley:problem:\(problem.code.rawValue)",
            title: problem.title,
            status: answer.status,
            detail: problem.detail,
            code: problem.code.rawValue,
            instance: requestID,
            errors: problem.fieldErrors.isEmpty
                ? nil : problem.fieldErrors.map { .init(field: $0.field, code: $0.code.rawValue, detail: $0.detail) }
        )
        return (try? WireJSON.encode(document)) ?? Data(#"{"code":"internal_error","status":500}"#.utf8)
    }

    /// Content type, and the headers some statuses require: `WWW-Authenticate` on 401, `Retry-After` on 429 and 503.
    package static func headerFields(for answer: HTTPProblem) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        if answer.status == 401 { fields[.wwwAuthenticate] = #"Bearer realm="parley""# }
        if let retryAfter = answer.problem.retryAfter { fields[.retryAfter] = String(retryAfter) }
        if let length = answer.problem.completeLength { fields[.contentRange] = "bytes */\(length)" }
        return fields
    }

    /// The problem that stands for a bare HTTP status, for refusals that carry no problem of their own.
    package static func problem(forStatus status: Int, detail: String?) -> HTTPProblem {
        switch status {
        case 400: HTTPProblem(.badRequest(detail ?? "The request cannot be read."))
        case 401: HTTPProblem(.unauthorized)
        case 404: HTTPProblem(.notFound(detail))
        case 405: HTTPProblem(Problem(code: .methodNotAllowed, title: "Method not allowed", detail: detail))
        case 406: HTTPProblem(Problem(code: .notAcceptable, title: "Not acceptable", detail: detail))
        case 413: HTTPProblem(Problem(code: .payloadTooLarge, title: "Content too large", detail: detail))
        case 415:
            HTTPProblem(
                Problem(
                    code: .unsupportedMediaType,
                    title: "Unsupported media type",
                    detail: "This operation does not take a body of this Content-Type: send application/json (uploads: an image, or multipart/form-data)."
                )
            )
        case 503: HTTPProblem(Problem(code: .unavailable, title: "Service unavailable", detail: detail))
        case 400..<500: HTTPProblem(Problem(code: .badRequest, title: "Bad request", detail: detail), status: status)
        default: HTTPProblem(.internalError)
        }
    }

    private struct Document: Encodable {
        struct FieldErrorDocument: Encodable {
            var field: String
            var code: String
            var detail: String
        }

        var type: String
        var title: String
        var status: Int
        var detail: String?
        var code: String
        var instance: String?
        var errors: [FieldErrorDocument]?
    }
}

extension Problem {
    /// The problem a request body that did not decode stands for: each bad field named, values never echoed.
    init(decodingError error: DecodingError) {
        func path(_ context: DecodingError.Context, appending key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self = .invalidField(path(context, appending: key), .required, "This field is required.")
        case .valueNotFound(_, let context):
            self = .invalidField(path(context), .required, "This field must not be null.")
        case .typeMismatch(let type, let context):
            self = .invalidField(path(context), .invalidType, "Expected \(Self.jsonTypeName(type)).")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            self = .invalidField(path(context), .invalidFormat, "This value is not valid here.")
        default:
            self = .badRequest("The body is not valid JSON.")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is any Collection.Type: "an array"
        default: "an object"
        }
    }
}
