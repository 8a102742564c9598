import Foundation
import HTTPTypes
import Models

/// Renders a `Problem` as an RFC 9457 `application/problem+json` response: the one shape of every
/// error this server answers, whichever layer refused the request.
public enum ProblemResponse {
    /// The media type of every error body.
    public static let contentType = "application/problem+json"

    /// The JSON body, with the request id as `instance`.
    public static func body(for problem: Problem, requestID: String?) -> Data {
        let document = Document(
            type: "urn:parley:problem:\(problem.code.rawValue)",
            title: problem.title,
            status: problem.status,
            detail: problem.detail,
            code: problem.code.rawValue,
            instance: requestID,
            errors: problem.fieldErrors.isEmpty
                ? nil : problem.fieldErrors.map { .init(field: $0.field, code: $0.code.rawValue, detail: $0.detail) }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(document)) ?? Data(#"{"code":"internal_error","status":500}"#.utf8)
    }

    /// Content type, and the headers some statuses require: `WWW-Authenticate` on 401, `Retry-After` on 429.
    public static func headerFields(for problem: Problem) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        if problem.status == 401 { fields[.wwwAuthenticate] = #"Bearer realm="parley""# }
        if let retryAfter = problem.retryAfter { fields[.retryAfter] = String(retryAfter) }
        return fields
    }

    /// The code and title that stand for a bare HTTP status, for refusals that carry no problem of their own.
    public static func problem(forStatus status: Int, detail: String?) -> Problem {
        switch status {
        case 400: .badRequest(detail ?? "The request cannot be read.")
        case 401: .unauthorized
        case 404: .notFound(detail)
        case 405: Problem(status: 405, code: .methodNotAllowed, title: "Method not allowed", detail: detail)
        case 406: Problem(status: 406, code: .notAcceptable, title: "Not acceptable", detail: detail)
        case 413: Problem(status: 413, code: .payloadTooLarge, title: "Content too large", detail: detail)
        case 415:
            Problem(
                status: 415,
                code: .unsupportedMediaType,
                title: "Unsupported media type",
                detail: "Send the body as application/json."
            )
        case 503: Problem(status: 503, code: .unavailable, title: "Service unavailable", detail: detail)
        case 400..<500: Problem(status: status, code: .badRequest, title: "Bad request", detail: detail)
        default: .internalError
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
