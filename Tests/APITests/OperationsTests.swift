import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import App
import NIOCore

@Suite("Health, readiness and the spec", .timeLimit(.minutes(1)))
struct OperationsTests {
    @Test("healthz and readyz answer 200 while all is well", arguments: TestBackend.all)
    func healthAndReadiness(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let health = try await app.raw(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(String(buffer: health.body) == #"{"status":"ok"}"#)
            let ready = try await app.raw(.get, "/readyz")
            #expect(ready.status == .ok)
        }
    }

    @Test("HEAD answers wherever GET does: the same status and headers, no body")
    func head() async throws {
        try await withApp(.sqlite) { app in
            let token = try await app.register("alice").accessToken
            let authorized: HTTPFields = [.authorization: "Bearer \(token)"]
            for path in ["/healthz", "/readyz", "/openapi.yaml", "/asyncapi.yaml", "/.well-known/jwks.json", "/api/v1/me", "/api/v1/conversations"] {
                let get = try await app.raw(.get, path, headers: authorized)
                let head = try await app.raw(.head, path, headers: authorized)
                #expect(get.status == .ok && head.status == .ok, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType] && head.body.readableBytes == 0, "\(path)")
            }
            #expect(try await app.raw(.head, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test("GET /openapi.yaml serves the spec the server was generated from", arguments: TestBackend.all)
    func servesTheSpec(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let response = try await app.raw(.get, "/openapi.yaml")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
            let file = try String(contentsOf: Repository.root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
            #expect(String(buffer: response.body) == file)
        }
    }
}
