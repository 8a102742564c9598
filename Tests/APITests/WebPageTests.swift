import App
import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import Models
import NIOCore
import TestSupport
import Testing

@Suite("The web page and other origins", .timeLimit(.minutes(1)))
struct WebPageTests {
    /// A page folder with what `Public/` has: the page, a script, and files that are not served.
    static func withPageFolder(_ body: (String) async throws -> Void) async throws {
        let folder = NSTemporaryDirectory() + "parley-page-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = [
            "index.html": "<!doctype html><title>Parley</title><script type=module src=/app.js></script>",
            "app.js": "export const ready = true;",
            "views/chat.js": "export {};",
            "README.md": "# not served",
            "screenshots/dark.png": "png",
            ".secret": "not served",
        ]
        for (path, text) in files {
            let url = URL(fileURLWithPath: folder).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try await body(folder)
    }

    @Test("The page is served at / and at the mailed links' paths, revalidated, under a strict policy")
    func servesThePage() async throws {
        try await Self.withPageFolder { folder in
            try await withApp(.sqlite, configure: { $0.publicDirectory = folder }) { app in
                let page = try await app.raw(.get, "/")
                #expect(page.status == .ok)
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: page.body).contains("<title>Parley</title>"))
                #expect(page.headers[.cacheControl] == "no-cache")
                #expect(page.headers[.xContentTypeOptions] == "nosniff")
                let policy = try #require(page.headers[.contentSecurityPolicy])
                for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "img-src 'self' blob: data:", "frame-ancestors 'none'"] {
                    #expect(policy.contains(directive))
                }
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                let eTag = try #require(page.headers[.eTag])
                #expect(try await app.raw(.get, "/", headers: [.ifNoneMatch: eTag]).status == .notModified)
                #expect(try await app.raw(.get, "/", headers: [.ifNoneMatch: "\"stale\""]).status == .ok)

                for route in ["/reset-password?token=abc", "/verify-email?token=abc", "/index.html"] {
                    let answer = try await app.raw(.get, route)
                    #expect(answer.status == .ok && answer.headers[.eTag] == eTag, "\(route)")
                }
                let script = try await app.raw(.get, "/views/chat.js")
                #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
                let head = try await app.raw(.head, "/app.js")
                #expect(head.status == .ok && head.body.readableBytes == 0 && head.headers[.contentLength] == String("export const ready = true;".utf8.count))

                for hidden in ["/README.md", "/screenshots/dark.png", "/.secret", "/../Package.swift", "/nothing.js"] {
                    #expect(try await app.raw(.get, hidden).status == .notFound, "\(hidden)")
                }
                // The API's own answers are untouched by the page's routes.
                let unknown = try await app.raw(.get, "/api/v1/nothing")
                #expect(unknown.status == .notFound && unknown.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test("Without its folder the server runs, without a page")
    func missingFolder() async throws {
        try await withApp(.sqlite, configure: { $0.publicDirectory = "/nonexistent/parley-page" }) { (app: TestApp) async throws in
            #expect(try await app.raw(.get, "/").status == .notFound)
            #expect(try await app.raw(.get, "/readyz").status == .ok)
        }
    }

    @Test("--cors-origins lets the listed origins use the API from a browser, and nobody else")
    func cors() async throws {
        try await withApp(.sqlite, configure: { $0.corsOrigins = ["https://chat.example"] }) { app in
            let preflight = try await app.raw(
                .options,
                "/api/v1/auth/login",
                headers: [.origin: "https://chat.example", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type"]
            )
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://chat.example")
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("PATCH") == true)
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            #expect(preflight.headers[.vary] == "Origin")

            let token = try await app.register("alice").accessToken
            let me = try await app.raw(.get, "/api/v1/me", headers: [.origin: "https://chat.example", .authorization: "Bearer \(token)"])
            #expect(me.status == .ok && me.headers[.accessControlAllowOrigin] == "https://chat.example")
            #expect(me.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)
            // Errors carry the headers too, so the page can read the problem.
            let refused = try await app.raw(.get, "/api/v1/me", headers: [.origin: "https://chat.example"])
            #expect(refused.status == .unauthorized && refused.headers[.accessControlAllowOrigin] == "https://chat.example")

            let elsewhere = try await app.raw(.get, "/api/v1/me", headers: [.origin: "https://evil.example", .authorization: "Bearer \(token)"])
            #expect(elsewhere.headers[.accessControlAllowOrigin] == nil)
            let foreignPreflight = try await app.raw(
                .options, "/api/v1/auth/login", headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"]
            )
            #expect(foreignPreflight.headers[.accessControlAllowOrigin] == nil && foreignPreflight.status != .noContent)
        }
    }

    @Test("Interactive API docs at /docs (Swagger UI on the served spec) and the realtime protocol's page, current with asyncapi.yaml")
    func servesTheDocs() async throws {
        let (status, output) = try await run([Repository.root.appendingPathComponent("scripts/render-asyncapi").path, "--check"])
        #expect(status == 0, "\(output)")
        let folder = Repository.root.appendingPathComponent("Public").path
        try await withApp(.sqlite, configure: { $0.publicDirectory = folder }) { app in
            for path in ["/docs", "/docs/"] {
                let docs = try await app.raw(.get, path)
                #expect(docs.status == .ok && docs.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                let html = String(buffer: docs.body)
                #expect(html.contains("/docs/swagger-ui/swagger-ui-bundle.js") && html.contains("/docs/docs.js"))
                #expect(docs.headers[.contentSecurityPolicy]?.contains("script-src 'self';") == true)
            }
            for asset in ["/docs/swagger-ui/swagger-ui-bundle.js", "/docs/swagger-ui/swagger-ui.css", "/docs/swagger-ui/LICENSE", "/docs/docs.js"] {
                #expect(try await app.raw(.get, asset).status == .ok, "\(asset)")
            }
            // The spec the docs render is the one served, and its server is relative, so "Try it out" calls this server.
            let spec = String(buffer: try await app.raw(.get, "/openapi.yaml").body)
            #expect(spec.contains("servers:\n  - url: /api/v1\n"))
            let realtime = try await app.raw(.get, "/docs/realtime.html")
            #expect(realtime.status == .ok)
            for event in EventType.all {
                #expect(String(buffer: realtime.body).contains("<code>\(event.rawValue)</code>"), "\(event.rawValue)")
            }
        }
    }
}
