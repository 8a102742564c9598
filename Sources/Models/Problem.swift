/// A stable, machine-readable error code carried by every problem response.
///
/// A struct with static members rather than an enum, so new codes never break callers.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let badRequest = ErrorCode("bad_request")
    public static let validationFailed = ErrorCode("validation_failed")
    public static let unauthorized = ErrorCode("unauthorized")
    public static let invalidCredentials = ErrorCode("invalid_credentials")
    public static let invalidRefreshToken = ErrorCode("invalid_refresh_token")
    public static let invalidToken = ErrorCode("invalid_token")
    public static let forbidden = ErrorCode("forbidden")
    public static let notFound = ErrorCode("not_found")
    public static let methodNotAllowed = ErrorCode("method_not_allowed")
    public static let usernameTaken = ErrorCode("username_taken")
    public static let emailTaken = ErrorCode("email_taken")
    public static let rateLimited = ErrorCode("rate_limited")
    public static let payloadTooLarge = ErrorCode("payload_too_large")
    public static let unsupportedMediaType = ErrorCode("unsupported_media_type")
    public static let notAcceptable = ErrorCode("not_acceptable")
    public static let groupFull = ErrorCode("group_full")
    public static let ownerMustTransfer = ErrorCode("owner_must_transfer")
    public static let messageDeleted = ErrorCode("message_deleted")
    public static let internalError = ErrorCode("internal_error")
    public static let unavailable = ErrorCode("unavailable")
}

/// An expected failure: something the client did or must handle, answered as RFC 9457 problem+json.
///
/// Its text is written for clients and never carries secrets; unexpected errors are not
/// `Problem`s and reach clients only as a generic `internal_error`.
public struct Problem: Error, Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The stable machine code.
    public var code: ErrorCode
    /// A short, fixed summary of the problem type.
    public var title: String
    /// What went wrong in this occurrence, for people.
    public var detail: String?
    /// With `validation_failed`: one entry per bad field.
    public var fieldErrors: [FieldError]
    /// With 429: seconds until a retry may succeed.
    public var retryAfter: Int?

    public init(
        status: Int,
        code: ErrorCode,
        title: String,
        detail: String? = nil,
        fieldErrors: [FieldError] = [],
        retryAfter: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.retryAfter = retryAfter
    }
}

// MARK: - The problems the service answers

extension Problem {
    public static func badRequest(_ detail: String) -> Problem {
        Problem(status: 400, code: .badRequest, title: "Bad request", detail: detail)
    }

    public static func validationFailed(_ errors: [FieldError]) -> Problem {
        let detail = errors.count == 1 ? errors[0].detail : "\(errors.count) fields are invalid."
        return Problem(status: 400, code: .validationFailed, title: "Validation failed", detail: detail, fieldErrors: errors)
    }

    /// One invalid field.
    public static func invalidField(_ field: String, _ code: FieldErrorCode, _ detail: String) -> Problem {
        validationFailed([FieldError(field: field, code: code, detail: detail)])
    }

    public static let unauthorized = Problem(
        status: 401,
        code: .unauthorized,
        title: "Unauthorized",
        detail: "The access token is missing, invalid or expired."
    )

    public static let invalidCredentials = Problem(
        status: 401,
        code: .invalidCredentials,
        title: "Invalid credentials",
        detail: "The login or the password is wrong."
    )

    public static let wrongCurrentPassword = Problem(
        status: 403,
        code: .invalidCredentials,
        title: "Invalid credentials",
        detail: "The current password is wrong."
    )

    public static let invalidRefreshToken = Problem(
        status: 401,
        code: .invalidRefreshToken,
        title: "Invalid refresh token",
        detail: "The refresh token is not valid; sign in again."
    )

    public static let invalidResetToken = Problem(
        status: 400,
        code: .invalidToken,
        title: "Invalid token",
        detail: "The reset link is used, expired or unknown; ask for a new one."
    )

    public static func forbidden(_ detail: String) -> Problem {
        Problem(status: 403, code: .forbidden, title: "Forbidden", detail: detail)
    }

    public static func notFound(_ detail: String? = nil) -> Problem {
        Problem(status: 404, code: .notFound, title: "Not found", detail: detail)
    }

    public static let usernameTaken = Problem(
        status: 409,
        code: .usernameTaken,
        title: "Username taken",
        detail: "That username is taken."
    )

    public static let emailTaken = Problem(
        status: 409,
        code: .emailTaken,
        title: "Email taken",
        detail: "That email address belongs to another account."
    )

    public static func rateLimited(retryAfter seconds: Int) -> Problem {
        Problem(
            status: 429,
            code: .rateLimited,
            title: "Too many requests",
            detail: "Too many attempts. Try again in \(seconds) seconds.",
            retryAfter: seconds
        )
    }

    public static func payloadTooLarge(limit: Int) -> Problem {
        Problem(
            status: 413,
            code: .payloadTooLarge,
            title: "Content too large",
            detail: "The request body is larger than \(limit) bytes."
        )
    }

    public static let internalError = Problem(
        status: 500,
        code: .internalError,
        title: "Internal server error",
        detail: "Something went wrong on our side. Quote the request id when reporting it."
    )
}
