import Auth
import Foundation
import Hummingbird
import Models
import Realtime
import Store
import NIOFoundationEssentialsCompat
import Logging

/// The routes outside `/api/v1`: health, readiness, the specs and the public signing keys.
struct HealthAndSpecRoutes: Sendable {
    let database: any Database
    let tokens: AccessTokens

    /// How long readiness waits for the database before calling it unreachable.
    static let readinessTimeout: Duration = .seconds(2)

    func register(on router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in
            Self.json(#"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, context in
            do {
                try await withTimeout(Self.readinessTimeout) { try await database.ping() }
                return Self.json(#"{"status":"ready"}"#)
            } catch {
                context.logger.warning("Not ready: the database does not answer", metadata: ["error": "\(error)"])
                var response = Self.json(#"{"status":"unavailable","reason":"database"}"#)
                response.status = .serviceUnavailable
                return response
            }
        }
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml))
            )
        }
        router.get("/asyncapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.asyncapi_yaml))
            )
        }
        router.get("/.well-known/jwks.json") { _, _ in
            let body = try WireJSON.encode(tokens.jwks())
            return Response(
                status: .ok,
                headers: [.contentType: "application/jwk-set+json", .cacheControl: "package, max-age=300"],
                body: .init(byteBuffer: ByteBuffer(data: body))
            )
        }
    }

    /// A plain GET of the realtime endpoint (no upgrade) says how to connect.
    static func registerRealtimeHints(on router: Router<AppRequestContext>) {
        router.get(RouterPath(RealtimeServer.path)) { _, _ -> Response in
            throw Problem(
                code: .upgradeRequired,
                title: "Upgrade required",
                detail: "Open a WebSocket here (Upgrade: websocket); see /asyncapi.yaml."
            )
        }
    }

    private static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// Runs `operation`, throwing `TimeoutError` if it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// An operation outlasted its time limit.
struct TimeoutError: Error {}
