public import Foundation
import HTTPTypes
public import OpenAPIRuntime

/// A signed-in Parley session on the client side: a ``Client`` whose requests carry the session's
/// access token, refreshed when it is about to expire or is refused — once, however many requests
/// wait for it.
///
/// ```swift
/// let server = URL(string: "http://127.0.0.1:8080/api/v1")!
/// let transport = AsyncHTTPClientTransport()  // or URLSessionTransport() on Apple platforms
/// let signedIn = try await Client(serverURL: server, transport: transport)
///     .login(body: .json(.init(login: "alice", password: "correct horse battery"))).ok.body.json
/// let api = ParleySession(signedIn, serverURL: server, transport: transport).client
/// let me = try await api.getMe().ok.body.json
/// ```
///
/// Each refresh spends the refresh token before it: keep the new one (e.g. in the Keychain) from
/// `onRefresh` to sign in again later without a password.
public actor ParleySession {
    /// The current access token (an EdDSA JWT that lives 15 minutes).
    public private(set) var accessToken: String
    /// The current refresh token: single-use, replaced by each refresh.
    public private(set) var refreshToken: String
    /// Whether the server refused the refresh token (signed out, revoked, or the token was used
    /// twice): requests then answer 401 as they are; sign in again.
    public private(set) var isSignedOut = false
    private var expiresAt: Date
    private var refreshing: Task<Void, any Error>?
    private let onRefresh: @Sendable (_ accessToken: String, _ refreshToken: String) -> Void
    private nonisolated let serverURL: URL
    private nonisolated let transport: any ClientTransport

    /// The client that signs every request with this session.
    public nonisolated var client: Client {
        Client(serverURL: serverURL, transport: transport, middlewares: [BearerMiddleware(session: self)])
    }

    /// A session from tokens kept earlier (`expiresIn`: seconds the access token has left; 0 to
    /// refresh before the first request).
    public init(
        accessToken: String,
        refreshToken: String,
        expiresIn: Int,
        serverURL: URL,
        transport: any ClientTransport,
        onRefresh: @escaping @Sendable (_ accessToken: String, _ refreshToken: String) -> Void = { _, _ in }
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = Date().addingTimeInterval(TimeInterval(expiresIn))
        self.onRefresh = onRefresh
        self.serverURL = serverURL
        self.transport = transport
    }

    /// A session from the answer of `register` or `login`.
    public init(
        _ session: Components.Schemas.AuthSession,
        serverURL: URL,
        transport: any ClientTransport,
        onRefresh: @escaping @Sendable (_ accessToken: String, _ refreshToken: String) -> Void = { _, _ in }
    ) {
        self.init(
            accessToken: session.accessToken, refreshToken: session.refreshToken, expiresIn: session.expiresIn,
            serverURL: serverURL, transport: transport, onRefresh: onRefresh
        )
    }

    /// An access token good for at least another minute, refreshing first when needed.
    func freshAccessToken() async throws -> String {
        if expiresAt.timeIntervalSinceNow < 60, !isSignedOut { try await refresh(after: accessToken) }
        return accessToken
    }

    /// Trades the refresh token for a new pair — unless that already happened since `refused` was
    /// the access token. Requests that need it meanwhile wait for the same refresh.
    func refresh(after refused: String) async throws {
        if let refreshing { return try await refreshing.value }
        guard refused == accessToken, !isSignedOut else { return }
        let task = Task { try await trade() }
        refreshing = task
        defer { refreshing = nil }
        try await task.value
    }

    private func trade() async throws {
        let anonymous = Client(serverURL: serverURL, transport: transport)
        guard case .ok(let ok) = try await anonymous.refreshTokens(body: .json(.init(refreshToken: refreshToken))) else {
            isSignedOut = true
            return
        }
        let pair = try ok.body.json
        accessToken = pair.accessToken
        refreshToken = pair.refreshToken
        expiresAt = Date().addingTimeInterval(TimeInterval(pair.expiresIn))
        onRefresh(pair.accessToken, pair.refreshToken)
    }
}

/// Adds the session's bearer token to every request; on a 401, refreshes once and retries.
struct BearerMiddleware: ClientMiddleware {
    let session: ParleySession

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        // A request may go twice, so its body must be readable twice (uploads are at most a few MiB).
        var bytes: Data?
        if let body { bytes = try await Data(collecting: body, upTo: 64 * 1024 * 1024) }
        var signed = request
        let token = try await session.freshAccessToken()
        signed.headerFields[.authorization] = "Bearer \(token)"
        let (response, answer) = try await next(signed, bytes.map { HTTPBody($0) }, baseURL)
        guard response.status == .unauthorized else { return (response, answer) }
        try await session.refresh(after: token)
        let renewed = await session.accessToken
        guard renewed != token else { return (response, answer) }  // signed out: the 401 stands
        signed.headerFields[.authorization] = "Bearer \(renewed)"
        return try await next(signed, bytes.map { HTTPBody($0) }, baseURL)
    }
}
