@testable import API
import Foundation
import Models
import TestSupport
import Testing

@Suite("The OpenAPI contract", .timeLimit(.minutes(1)))
struct SpecTests {
    struct Report: Decodable {
        var `public`: [String]
        var events: [String]
        var typedQuery: [String: String]
        var problems: [String]
    }

    @Test("openapi.yaml is valid OpenAPI 3.1 and documents every operation fully")
    func specIsValidAndComplete() async throws {
        let spec = Repository.root.appendingPathComponent("openapi.yaml").path
        let (status, output) = try await run(["python3", Repository.fixture("check_openapi.py"), spec])
        try #require(status == 0, "openapi-spec-validator refused the spec:\n\(output)")
        let report = try JSONDecoder().decode(Report.self, from: Data(output.utf8))
        #expect(report.problems == [])
        // The authentication middleware lets exactly the operations through that the spec declares public.
        #expect(Set(report.public) == AuthenticationMiddleware.publicOperations)
        // Every event type the server logs has its schema, and the spec declares no other.
        #expect(Set(report.events) == Set(EventType.all.map(\.rawValue)))
        // A malformed query parameter is named in the problem by the list of typed ones.
        #expect(report.typedQuery == ProblemMiddleware.typedQueryParameters)
    }
}
