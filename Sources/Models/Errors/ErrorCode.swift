/// A stable, machine-readable error code, carried by every problem response and realtime `error` frame.
///
/// A struct with static members rather than an enum, so new codes never break callers. The HTTP
/// status of each is given where REST answers are made, not here.
package struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    package static let badRequest = ErrorCode("bad_request")
    package static let validationFailed = ErrorCode("validation_failed")
    package static let unauthorized = ErrorCode("unauthorized")
    package static let invalidCredentials = ErrorCode("invalid_credentials")
    package static let invalidRefreshToken = ErrorCode("invalid_refresh_token")
    package static let invalidToken = ErrorCode("invalid_token")
    package static let forbidden = ErrorCode("forbidden")
    package static let notFound = ErrorCode("not_found")
    package static let methodNotAllowed = ErrorCode("method_not_allowed")
    package static let notAcceptable = ErrorCode("not_acceptable")
    package static let usernameTaken = ErrorCode("username_taken")
    package static let emailTaken = ErrorCode("email_taken")
    package static let groupFull = ErrorCode("group_full")
    package static let ownerMustTransfer = ErrorCode("owner_must_transfer")
    package static let tooManyConversations = ErrorCode("too_many_conversations")
    package static let messageDeleted = ErrorCode("message_deleted")
    package static let payloadTooLarge = ErrorCode("payload_too_large")
    package static let unsupportedMediaType = ErrorCode("unsupported_media_type")
    /// An image with more pixels than the server takes.
    package static let imageTooLarge = ErrorCode("image_too_large")
    /// A file with an image's signature that does not decode.
    package static let unreadableImage = ErrorCode("unreadable_image")
    /// A byte range outside what was asked for.
    package static let rangeNotSatisfiable = ErrorCode("range_not_satisfiable")
    package static let upgradeRequired = ErrorCode("upgrade_required")
    package static let rateLimited = ErrorCode("rate_limited")
    package static let internalError = ErrorCode("internal_error")
    package static let unavailable = ErrorCode("unavailable")
    /// Realtime only: a frame that is not a JSON object with a `type`.
    package static let invalidFrame = ErrorCode("invalid_frame")
    /// Realtime only: a frame whose `type` the server does not know.
    package static let unknownType = ErrorCode("unknown_type")
}
