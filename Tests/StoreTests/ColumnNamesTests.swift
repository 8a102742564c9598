import SQLKit
@testable import Store
import Testing

/// Rows are decoded with names worked out once per property; they must be SQLKit's own.
@Suite("Column names")
struct ColumnNamesTests {
    struct Names: Encodable {
        var id = 0
        var avatarUploadId = 0
        var emailVerifiedAt = 0
        var mentionsAll = 0
        var userID = 0
        var userIDs = 0
        var URLString = 0
        var aB = 0
        var x2y = 0
    }

    @Test("Every property name maps to the column SQLKit's snake-case conversion names")
    func sameAsSQLKit() throws {
        let sqlKit = try SQLQueryEncoder(keyEncodingStrategy: .convertToSnakeCase).encode(Names()).map(\.0)
        let plain = try SQLQueryEncoder().encode(Names()).map(\.0)
        #expect(plain.count == 9)
        #expect(plain.map(ColumnNames.snakeCased) == sqlKit)
        #expect(plain.map(ColumnNames.column(for:)) == sqlKit, "and the same once remembered")
        #expect(ColumnNames.snakeCased("avatarUploadId") == "avatar_upload_id")
    }
}
