/// An expected failure: something the client did or must handle — answered over REST as RFC 9457
/// problem+json, over the realtime connection as an `error` frame.
///
/// Its text is written for clients and never carries secrets; unexpected errors are not
/// `Problem`s and reach clients only as a generic `internal_error`.
package struct Problem: Error, Sendable, Equatable {
    /// The stable machine code; it decides the HTTP status.
    package var code: ErrorCode
    /// A short, fixed summary of the problem type.
    package var title: String
    /// What went wrong in this occurrence, for people.
    package var detail: String?
    /// With `validation_failed`: one entry per bad field.
    package var fieldErrors: [FieldError]
    /// With `rate_limited` and `unavailable`: seconds until a retry may succeed.
    package var retryAfter: Int?
    /// With `range_not_satisfiable`: the length of what the range was asked of.
    package var completeLength: Int?

    package init(
        code: ErrorCode,
        title: String,
        detail: String? = nil,
        fieldErrors: [FieldError] = [],
        retryAfter: Int? = nil,
        completeLength: Int? = nil
    ) {
        self.code = code
        self.title = title
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.retryAfter = retryAfter
        self.completeLength = completeLength
    }
}

// MARK: - The problems the service answers

extension Problem {
    package static func badRequest(_ detail: String) -> Problem {
        Problem(code: .badRequest, title: "Bad request", detail: detail)
    }

    package static func validationFailed(_ errors: [FieldError]) -> Problem {
        let detail = errors.count == 1 ? errors[0].detail : "\(errors.count) fields are invalid."
        return Problem(code: .validationFailed, title: "Validation failed", detail: detail, fieldErrors: errors)
    }

    /// One invalid field.
    package static func invalidField(_ field: String, _ code: FieldErrorCode, _ detail: String) -> Problem {
        validationFailed([FieldError(field: field, code: code, detail: detail)])
    }

    package static let unauthorized = Problem(
        code: .unauthorized,
        title: "Unauthorized",
        detail: "The access token is missing, invalid or expired."
    )

    package static let invalidCredentials = Problem(
        code: .invalidCredentials,
        title: "Invalid credentials",
        detail: "The login or the password is wrong."
    )

    /// A signed-in user gave the wrong current password (REST answers it with 403, not 401).
    package static let wrongCurrentPassword = Problem(
        code: .invalidCredentials,
        title: "Invalid credentials",
        detail: "The current password is wrong."
    )

    package static let invalidRefreshToken = Problem(
        code: .invalidRefreshToken,
        title: "Invalid refresh token",
        detail: "The refresh token is not valid; sign in again."
    )

    package static let invalidResetToken = Problem(
        code: .invalidToken,
        title: "Invalid token",
        detail: "The reset link is used, expired or unknown; ask for a new one."
    )

    package static let invalidEmailToken = Problem(
        code: .invalidToken,
        title: "Invalid token",
        detail: "The link is used, expired or unknown, or for an address the account no longer has; ask for a new one."
    )

    package static func forbidden(_ detail: String) -> Problem {
        Problem(code: .forbidden, title: "Forbidden", detail: detail)
    }

    package static func notFound(_ detail: String? = nil) -> Problem {
        Problem(code: .notFound, title: "Not found", detail: detail)
    }

    package static let usernameTaken = Problem(code: .usernameTaken, title: "Username taken", detail: "That username is taken.")

    package static let emailTaken = Problem(
        code: .emailTaken,
        title: "Email taken",
        detail: "That email address belongs to another account."
    )

    package static func groupFull(limit: Int) -> Problem {
        Problem(code: .groupFull, title: "Group full", detail: "A group has at most \(limit) members.")
    }

    package static func tooManyConversations(limit: Int) -> Problem {
        Problem(
            code: .tooManyConversations,
            title: "Too many conversations",
            detail: "Someone would be in more than \(limit) conversations; they must leave some first."
        )
    }

    package static let ownerMustTransfer = Problem(
        code: .ownerMustTransfer,
        title: "Owner must hand over",
        detail: "Make another member the owner before leaving the group."
    )

    package static let messageDeleted = Problem(code: .messageDeleted, title: "Message deleted", detail: "The message was deleted.")

    package static func rateLimited(retryAfter seconds: Int) -> Problem {
        Problem(
            code: .rateLimited,
            title: "Too many requests",
            detail: "Too many attempts. Try again in \(seconds) seconds.",
            retryAfter: seconds
        )
    }

    package static func payloadTooLarge(limit: Int) -> Problem {
        Problem(code: .payloadTooLarge, title: "Content too large", detail: "The request body is larger than \(limit) bytes.")
    }

    /// The database did not answer in time, or not at all (restarting, unreachable, stalled).
    package static let databaseUnavailable = Problem(
        code: .unavailable,
        title: "Service unavailable",
        detail: "The database is unavailable. Try again in 2 seconds.",
        retryAfter: 2
    )

    package static let internalError = Problem(
        code: .internalError,
        title: "Internal server error",
        detail: "Something went wrong on our side. Quote the request id when reporting it."
    )
}
