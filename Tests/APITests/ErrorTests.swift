import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Errors are precise problem+json, never 500", .timeLimit(.minutes(1)))
struct ErrorTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    func expectProblem(
        _ response: TestResponse,
        status: HTTPResponse.Status,
        code: String,
        fields: [String: String]? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let problem = try response.problem
        #expect(problem.code == code, sourceLocation: sourceLocation)
        #expect(problem.status == Int(status.code), sourceLocation: sourceLocation)
        #expect(problem.type == "urn:parley:problem:\(code)", sourceLocation: sourceLocation)
        #expect(problem.instance == response.headers[HTTPField.Name("X-Request-Id")!], sourceLocation: sourceLocation)
        if let fields {
            let actual = Dictionary(uniqueKeysWithValues: (problem.errors ?? []).map { ($0.field, $0.code) })
            #expect(actual == fields, sourceLocation: sourceLocation)
        }
    }

    @Test("A method the path does not declare is 405 with Allow; an unknown path stays 404", arguments: [TestBackend.sqlite])
    func undeclaredMethods(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let trace = try await app.raw(.trace, "/api/v1/auth/login")
            try expectProblem(trace, status: .methodNotAllowed, code: "method_not_allowed")
            #expect(trace.headers[.allow] == "POST")
            let put = try await app.raw(.put, "/api/v1/conversations/\(UUID().uuidString.lowercased())/messages")
            try expectProblem(put, status: .methodNotAllowed, code: "method_not_allowed")
            #expect(put.headers[.allow] == "GET, HEAD, POST")
            try expectProblem(try await app.raw(.get, "/api/v1/no-such-thing"), status: .notFound, code: "not_found")
            try expectProblem(try await app.raw(.post, "/api/v1/conversations//messages"), status: .notFound, code: "not_found")
        }
    }

    @Test("Bodies that cannot be read answer 400 naming the field at fault", arguments: TestBackend.all)
    func unreadableBodies(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let register = "/api/v1/auth/register"
            try expectProblem(try await app.raw(.post, register, headers: Self.json, body: #"{"username":"#), status: .badRequest, code: "bad_request")
            try expectProblem(try await app.raw(.post, register, headers: Self.json, body: "[]"), status: .badRequest, code: "validation_failed")
            try expectProblem(
                try await app.raw(.post, register, headers: Self.json, body: #"{"username":42,"email":"a@b.co","password":"xxxxxxxx"}"#),
                status: .badRequest,
                code: "validation_failed",
                fields: ["username": "invalid_type"]
            )
            try expectProblem(
                try await app.raw(.post, register, headers: Self.json, body: #"{"email":"a@b.co","password":"xxxxxxxx"}"#),
                status: .badRequest,
                code: "validation_failed",
                fields: ["username": "required"]
            )
            try expectProblem(
                try await app.raw(.post, register, headers: Self.json, body: #"{"username":null,"email":"a@b.co","password":"xxxxxxxx"}"#),
                status: .badRequest,
                code: "validation_failed",
                fields: ["username": "required"]
            )
            try expectProblem(
                try await app.raw(.post, register, headers: Self.json, body: #"{"username":"abc","email":"a@b.co","password":1e999}"#),
                status: .badRequest,
                code: "validation_failed",
                fields: ["password": "invalid_type"]
            )
            try expectProblem(try await app.raw(.post, register, headers: Self.json), status: .badRequest, code: "bad_request")
        }
    }

    @Test("A body that is not JSON is 415; a body over 64 KiB is 413", arguments: TestBackend.all)
    func mediaTypeAndSize(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            try expectProblem(
                try await app.raw(.post, "/api/v1/auth/login", headers: [.contentType: "application/x-www-form-urlencoded"], body: "login=a&password=b"),
                status: .unsupportedMediaType,
                code: "unsupported_media_type"
            )
            let huge = #"{"login":"a","password":""# + String(repeating: "x", count: 70_000) + #""}"#
            try expectProblem(try await app.raw(.post, "/api/v1/auth/login", headers: Self.json, body: huge), status: .contentTooLarge, code: "payload_too_large")
        }
    }

    @Test("Unknown paths are 404 problems", arguments: TestBackend.all)
    func unknownPaths(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            try expectProblem(try await app.raw(.get, "/api/v1/nothing-here"), status: .notFound, code: "not_found")
            try expectProblem(try await app.raw(.get, "/api/v2/me"), status: .notFound, code: "not_found")
        }
    }

    @Test("X-Request-Id is echoed when sane, generated otherwise, and named in problems", arguments: TestBackend.all)
    func requestIDs(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let field = HTTPField.Name("X-Request-Id")!
            let mine = try await app.raw(.get, "/healthz", headers: [field: "trace-42.abc"])
            #expect(mine.headers[field] == "trace-42.abc")

            let generated = try await app.raw(.get, "/healthz")
            let id = try #require(generated.headers[field])
            #expect(id.count == 16 && id.allSatisfy { "0123456789abcdef".contains($0) })
            let another = try await app.raw(.get, "/healthz")
            #expect(another.headers[field] != id)

            for junk in ["has space", String(repeating: "x", count: 129)] {
                let replaced = try await app.raw(.get, "/healthz", headers: [field: junk])
                #expect(replaced.headers[field] != junk)
                #expect(replaced.headers[field]?.count == 16)
            }

            let failed = try await app.raw(.get, "/api/v1/me", headers: [field: "req-7"])
            #expect(try failed.problem.instance == "req-7")
        }
    }
}
