import App
import Foundation
import ParleyClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OpenAPIRuntime
import TestSupport
import Testing
import NIOFoundationEssentialsCompat

/// One Parley application under test, reached in process through the client generated from openapi.yaml.
struct TestApp: Sendable {
    let client: any TestClientProtocol
    let configuration: AppConfiguration

    /// The generated client, without credentials.
    var api: Client { Client(serverURL: URL(string: "/api/v1")!, transport: RouterTransport(client: client)) }

    /// The generated client, sending `Authorization: Bearer token`.
    func api(token: String) -> Client {
        Client(
            serverURL: URL(string: "/api/v1")!,
            transport: RouterTransport(client: client),
            middlewares: [HeaderMiddleware(name: .authorization, value: "Bearer \(token)")]
        )
    }

    /// The generated client, sending extra headers.
    func api(headers: [HTTPField.Name: String]) -> Client {
        Client(
            serverURL: URL(string: "/api/v1")!,
            transport: RouterTransport(client: client),
            middlewares: headers.map { HeaderMiddleware(name: $0.key, value: $0.value) }
        )
    }

    /// Registers `username` (email `username@example.com`) and returns the signed-in session.
    func register(
        _ username: String,
        password: String = "correct horse battery",
        displayName: String? = nil
    ) async throws -> Components.Schemas.AuthSession {
        let response = try await api.register(
            body: .json(.init(username: username, email: "\(username)@example.com", password: password, displayName: displayName))
        )
        return try response.created.body.json
    }

    /// A raw request, for what the generated client cannot send (malformed JSON, wrong types).
    func raw(
        _ method: HTTPRequest.Method,
        _ path: String,
        headers: HTTPFields = [:],
        body: String? = nil
    ) async throws -> TestResponse {
        try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }
}

/// Builds the application for `backend` and runs `body` against it.
func withApp(
    _ backend: TestBackend,
    configure: @escaping @Sendable (inout AppConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (TestApp) async throws -> Void
) async throws {
    try await backend.withConfiguration { base in
        var configured = base
        configure(&configured)
        try await withApp(configured, body)
    }
}

/// Runs `body` against an application built from `configuration`.
func withApp(_ configuration: AppConfiguration, _ body: @escaping @Sendable (TestApp) async throws -> Void) async throws {
    let app = try await buildApplication(configuration, logger: TestBackend.logger)
    try await app.test(.router) { client in
        try await body(TestApp(client: client, configuration: configuration))
    }
}

/// Runs `body` against an app whose mail goes to a fresh SMTP server, its links to
/// `https://chat.example.com`, from `noreply@example.com`.
func withMailingApp(
    _ backend: TestBackend,
    clock: TestClock? = nil,
    configure: @escaping @Sendable (inout AppConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (TestApp, SMTPSink) async throws -> Void
) async throws {
    let sink = try await SMTPSink.start()
    do {
        try await withApp(backend, configure: { configuration in
            configuration.smtpURL = sink.url
            configuration.publicURL = "https://chat.example.com"
            configuration.mailFrom = "Parley <noreply@example.com>"
            if let clock { configuration.now = { clock.now } }
            configure(&configuration)
        }) { app in
            try await body(app, sink)
        }
    } catch {
        await sink.stop()
        throw error
    }
    await sink.stop()
}

extension SMTPSink.Message {
    /// The token of this mail's link to `page` (`reset-password`, `verify-email`) of https://chat.example.com.
    func token(of page: String) throws -> String {
        let prefix = "https://chat.example.com/\(page)?token="
        let line = try #require(text.split(whereSeparator: \.isNewline).first { $0.hasPrefix(prefix) })
        return String(line.dropFirst(prefix.count))
    }
}

/// Runs `body` against two nodes — two applications sharing one database, as two processes would.
func withTwoNodes(
    _ backend: TestBackend,
    _ body: @escaping @Sendable (TestApp, TestApp) async throws -> Void
) async throws {
    try await backend.withConfiguration { configuration in
        try await withApp(configuration) { first in
            try await withApp(configuration) { second in
                try await body(first, second)
            }
        }
    }
}

/// Sends generated-client requests into the application's router, in process.
struct RouterTransport: ClientTransport {
    let client: any TestClientProtocol

    func send(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var buffer: ByteBuffer?
        if let body { buffer = ByteBuffer(bytes: try await [UInt8](collecting: body, upTo: 1 << 25)) }
        let response = try await client.execute(
            uri: baseURL.path + (request.path ?? ""),
            method: request.method,
            headers: request.headerFields,
            body: buffer
        )
        return (
            HTTPResponse(status: response.status, headerFields: response.headers),
            HTTPBody([UInt8](buffer: response.body))
        )
    }
}

/// Adds one header to every request of a generated client.
struct HeaderMiddleware: ClientMiddleware {
    let name: HTTPField.Name
    let value: String

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[name] = value
        return try await next(request, body, baseURL)
    }
}

extension TestResponse {
    /// The body decoded as a problem document.
    var problem: ProblemBody {
        get throws { try JSONDecoder().decode(ProblemBody.self, from: Data(buffer: body)) }
    }
}

/// A problem+json body as clients see it.
struct ProblemBody: Decodable, Equatable {
    struct FieldError: Decodable, Equatable {
        var field: String
        var code: String
    }

    var type: String
    var title: String
    var status: Int
    var code: String
    var detail: String?
    var instance: String?
    var errors: [FieldError]?
}
