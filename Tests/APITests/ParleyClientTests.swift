import Foundation
import Synchronization
import ParleyClient
import TestSupport
import Testing

/// ParleyClient's hand-written part: `ParleySession` signs requests and refreshes tokens.
@Suite("ParleyClient sessions", .timeLimit(.minutes(1)))
struct ParleyClientTests {
    @Test("A session signs every request, refreshes a refused token once for all waiting requests, and ends with its session")
    func sessionRefreshes() async throws {
        try await withApp(.sqlite) { app in
            let signedIn = try await app.register("alice")
            let server = URL(string: "/api/v1")!
            let transport = RouterTransport(client: app.client)
            let kept = Mutex<[String]>([])

            // Fresh tokens: requests go signed, no refresh.
            let session = ParleySession(signedIn, serverURL: server, transport: transport) { _, refresh in kept.withLock { $0.append(refresh) } }
            #expect(try await session.client.getMe().ok.body.json.username == "alice")
            #expect(kept.withLock { $0.isEmpty })

            // An access token the server refuses, with a good refresh token: ten requests at once
            // trade the refresh token once and all succeed.
            let stale = ParleySession(
                accessToken: "not-a-token", refreshToken: signedIn.refreshToken, expiresIn: 900, serverURL: server, transport: transport
            ) { _, refresh in kept.withLock { $0.append(refresh) } }
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<10 { group.addTask { try await stale.client.getMe().ok.body.json.username } }
                for try await name in group { #expect(name == "alice") }
            }
            #expect(kept.withLock { $0.count } == 1, "one refresh for ten requests")
            let traded = await stale.refreshToken
            #expect(traded == kept.withLock { $0.first } && traded != signedIn.refreshToken)

            // An access token about to expire is refreshed before the request goes.
            let expiring = ParleySession(
                accessToken: await stale.accessToken, refreshToken: await stale.refreshToken, expiresIn: 0, serverURL: server, transport: transport
            )
            #expect(try await expiring.client.listSessions().ok.body.json.items.count == 1)
            let renewed = await expiring.refreshToken
            #expect(renewed != traded)

            // Signed out: the refresh is refused, the 401 stands, and the session says it is over.
            _ = try await expiring.client.logout().noContent
            let ended = ParleySession(
                accessToken: "not-a-token", refreshToken: renewed, expiresIn: 900, serverURL: server, transport: transport
            )
            #expect(try await ended.client.getMe().unauthorized.body.applicationProblemJson.code == "unauthorized")
            #expect(await ended.isSignedOut)
        }
    }
}
