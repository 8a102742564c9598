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
        accountMail: AccountMailer,
        images: ImageProcessor,
        push: PushSender,
        limits: RateLimits,
        membershipLimits: MembershipLimits,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.implementation = APIImplementation(
            store: store,
            authenticator: authenticator,
            passwords: passwordHasher,
            accountMail: accountMail,
            images: images,
            push: push,
            limiters: Limiters(limits, now: now),
            membershipLimits: membershipLimits,
            now: now,
            logger: logger
        )
        self.logger = logger
    }

    /// Adds every operation to `router`.
    package func registerRoutes<Context: RequestContext>(on router: Router<Context>) throws {
        try implementation.registerHandlers(
            on: router,
            serverURL: URL(string: Self.basePath)!,
            // The runtime's counterpart of `WireJSON`: sorted keys, unescaped slashes, whole-second dates.
            configuration: Configuration(dateTranscoder: WireDateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
            middlewares: [
                ProblemMiddleware(logger: logger),
                HeaderValueMiddleware(),
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
    let accountMail: AccountMailer
    let images: ImageProcessor
    let push: PushSender
    let limiters: Limiters
    let membershipLimits: MembershipLimits
    let now: @Sendable () -> Date
    let logger: Logger

    var tokens: AccessTokens { authenticator.tokens }

    /// The identity the authentication middleware bound; every non-public operation has one.
    func identity() throws -> Identity {
        guard let identity = Identity.current else { throw Problem.unauthorized }
        return identity
    }

    /// Logs a security event as such — `security.event` names it — with whom it concerns and the
    /// client's address and request id; never a password, a token or a link.
    func security(_ event: String, _ message: String, user: UUID? = nil, session: UUID? = nil) {
        var metadata: Logger.Metadata = [
            "security.event": "\(event)",
            "client.address": "\(RequestInfo.current?.clientAddress?.description ?? "-")",
            "request.id": "\(RequestInfo.current?.requestID ?? "-")",
        ]
        if let user { metadata["user.id"] = "\(user.lowercased)" }
        if let session { metadata["session.id"] = "\(session.lowercased)" }
        logger.notice("\(message)", metadata: metadata)
    }
}

/// The rate limiters of the API, built from `RateLimits`, and the rules that combine them.
struct Limiters: Sendable {
    let loginsPerAccountAndAddress: RateLimiter
    let loginsPerAccount: RateLimiter
    let loginsPerAddress: RateLimiter
    let registrationsPerAddress: RateLimiter
    let passwordResetsPerAddress: RateLimiter
    let uploadsPerUser: RateLimiter
    let verificationResendsPerUser: RateLimiter
    /// One `login_rate_limited` log line per account a minute: a flood of refusals must not become
    /// a flood of log lines.
    let refusalLogs: RateLimiter

    /// How long a refused password attempt waits for its 429. A client hammering a locked account
    /// gets one answer a second per connection, instead of thousands of cheap refusals a second
    /// that would crowd out everyone else's requests.
    static let refusalDelay: Duration = .seconds(1)

    init(_ limits: RateLimits, now: @escaping @Sendable () -> Date) {
        loginsPerAccountAndAddress = RateLimiter(limits.loginsPerAccountAndAddress, now: now)
        loginsPerAccount = RateLimiter(limits.loginsPerAccount, now: now)
        loginsPerAddress = RateLimiter(limits.loginsPerAddress, now: now)
        registrationsPerAddress = RateLimiter(limits.registrationsPerAddress, now: now)
        passwordResetsPerAddress = RateLimiter(limits.passwordResetsPerAddress, now: now)
        uploadsPerUser = RateLimiter(limits.uploadsPerUser, now: now)
        verificationResendsPerUser = RateLimiter(limits.verificationResendsPerUser, now: now)
        refusalLogs = RateLimiter(RateLimiter.Rule(limit: 1, window: 60), now: now)
    }

    /// The key of the caller's address (an IPv6 client's /64); requests with no known address share one budget.
    static var addressKey: String { RequestInfo.current?.clientAddress?.limitKey ?? "unknown" }

    /// Counts a password attempt on `account` from the caller's address against all three login
    /// budgets before the password is checked, or refuses it with 429 (counting nothing).
    func takeLoginAttempt(account: String) throws(Problem) {
        let address = Self.addressKey
        let taken: [(RateLimiter, String)] = [
            (loginsPerAccountAndAddress, account + "|" + address), (loginsPerAccount, account), (loginsPerAddress, address),
        ]
        for (index, (limiter, key)) in taken.enumerated() {
            if let wait = limiter.take(key) {
                for (earlier, earlierKey) in taken.prefix(index) { earlier.giveBack(earlierKey) }
                throw Problem.rateLimited(retryAfter: wait)
            }
        }
    }

    /// The attempt proved the password: it no longer counts, nor do the earlier ones from this address.
    func loginSucceeded(account: String) {
        let address = Self.addressKey
        loginsPerAccountAndAddress.reset(account + "|" + address)
        loginsPerAccount.giveBack(account)
        loginsPerAddress.giveBack(address)
    }
}
