package import Auth
package import Foundation
package import Hummingbird
package import Logging
import Models
import OpenAPIHummingbird
import OpenAPIRuntime
package import Store

/// The REST API under `/api/v1`: the operations of `openapi.yaml`, implemented, with the middleware
/// that turns bearer tokens into identities and errors into problem+json.
package struct ParleyAPI: Sendable {
    /// Where the operations are mounted.
    package static let basePath = "/api/v1"

    let implementation: APIImplementation
    let logger: Logger

    package init(
        store: Store,
        authenticator: Authenticator,
        passwordHasher: PasswordHasher,
        passwordResets: PasswordResetMailer,
        limits: RateLimits,
        groupLimits: GroupLimits,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.implementation = APIImplementation(
            store: store,
            authenticator: authenticator,
            passwords: passwordHasher,
            passwordResets: passwordResets,
            limiters: Limiters(limits, now: now),
            groupLimits: groupLimits,
            now: now
        )
        self.logger = logger
    }

    /// Adds every operation to `router`.
    package func registerRoutes<Context: RequestContext>(on router: Router<Context>) throws {
        try implementation.registerHandlers(
            on: router,
            serverURL: URL(string: Self.basePath)!,
            // The runtime's counterpart of `WireJSON`: sorted keys, unescaped slashes, whole-second dates.
            configuration: Configuration(dateTranscoder: .iso8601, jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
            middlewares: [
                ProblemMiddleware(logger: logger),
                EmptyBodyMiddleware(),
                AuthenticationMiddleware(authenticator: implementation.authenticator),
            ]
        )
    }
}

/// The handlers of the generated `APIProtocol`; one file per tag.
struct APIImplementation: APIProtocol {
    let store: Store
    let authenticator: Authenticator
    let passwords: PasswordHasher
    let passwordResets: PasswordResetMailer
    let limiters: Limiters
    let groupLimits: GroupLimits
    let now: @Sendable () -> Date

    var tokens: AccessTokens { authenticator.tokens }

    /// The identity the authentication middleware bound; every non-package operation has one.
    func identity() throws -> Identity {
        guard let identity = Identity.current else { throw Problem.unauthorized }
        return identity
    }
}

/// The rate limiters of the API, built from `RateLimits`.
struct Limiters: Sendable {
    let failedLoginsPerAccount: RateLimiter
    let failedLoginsPerAddress: RateLimiter
    let passwordResetsPerAddress: RateLimiter

    init(_ limits: RateLimits, now: @escaping @Sendable () -> Date) {
        failedLoginsPerAccount = RateLimiter(limits.failedLoginsPerAccount, now: now)
        failedLoginsPerAddress = RateLimiter(limits.failedLoginsPerAddress, now: now)
        passwordResetsPerAddress = RateLimiter(limits.passwordResetsPerAddress, now: now)
    }

    /// The key of the caller's address; requests with no known address share one budget.
    static var addressKey: String { RequestInfo.current?.clientAddress ?? "unknown" }
}
