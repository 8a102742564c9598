import API
import Models
import Testing

/// HTTP statuses live at the edge: one table in the API gives each error code its status.
@Suite("Error statuses")
struct ErrorStatusTests {
    @Test("Each code answers with its documented status", arguments: [
        (ErrorCode.badRequest, 400), (.validationFailed, 400), (.invalidToken, 400),
        (.unauthorized, 401), (.invalidCredentials, 401), (.invalidRefreshToken, 401),
        (.forbidden, 403), (.notFound, 404), (.methodNotAllowed, 405), (.notAcceptable, 406),
        (.usernameTaken, 409), (.emailTaken, 409), (.groupFull, 409), (.ownerMustTransfer, 409), (.messageDeleted, 409),
        (.payloadTooLarge, 413), (.unsupportedMediaType, 415), (.upgradeRequired, 426), (.rateLimited, 429),
        (.internalError, 500), (.unavailable, 503),
    ])
    func statuses(code: ErrorCode, status: Int) {
        #expect(code.httpStatus == status)
        #expect(HTTPProblem(Problem(code: code, title: "t")).status == status)
    }

    @Test("A wrong current password is answered 403 where a failed login is 401, with the same code")
    func wrongCurrentPassword() {
        #expect(HTTPProblem(.invalidCredentials).status == 401)
        #expect(HTTPProblem(.wrongCurrentPassword, status: 403).status == 403)
        #expect(HTTPProblem.answering(Problem.forbidden("x"))?.status == 403)
        #expect(HTTPProblem.answering(CancellationError()) == nil)
    }
}
