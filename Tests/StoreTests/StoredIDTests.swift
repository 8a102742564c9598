import Foundation
import SQLKit
@testable import Store
import TestSupport
import Testing

/// Ids are bound and read by the Store's own code; what it writes must be what databases already
/// hold — on SQLite, Foundation's upper-case `uuidString` — or rows written before would no longer
/// be found.
@Suite("Ids in the database", .timeLimit(.minutes(1)))
struct StoredIDTests {
    @Test("An id bound by the Store matches the column that holds it, and reads back as itself", arguments: TestBackend.all)
    func boundAndRead(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let ids = (0..<20).map { _ in UUID() }
            let kind = database.kind
            try await database.write { sql in
                try await sql.raw("CREATE TABLE stored_ids (id \(unsafeRaw: kind == .sqlite ? "TEXT" : "uuid"), maybe \(unsafeRaw: kind == .sqlite ? "TEXT" : "uuid"))").run()
                for (index, id) in ids.enumerated() {
                    if kind == .sqlite {
                        // As SQLiteKit wrote ids before the Store wrote them itself.
                        try await sql.raw("INSERT INTO stored_ids VALUES (\(bind: id.uuidString), NULL)").run()
                    } else {
                        try await sql.raw("INSERT INTO stored_ids VALUES (\(bind: id), \(bind: index == 0 ? id : nil))").run()
                    }
                }
            }
            try await database.read { sql in
                let one = try await sql.raw("SELECT id, maybe FROM stored_ids WHERE id = \(bind: ids[3])").all()
                #expect(one.count == 1)
                #expect(try one.first?.decodeUUID(column: "id") == ids[3])
                #expect(try one.first?.decodeOptionalUUID(column: "maybe") == nil)
                let some = try await sql.raw("SELECT id FROM stored_ids WHERE id IN (\(binds: Array(ids[5..<15])))").all()
                #expect(Set(try some.map { try $0.decodeUUID(column: "id") }) == Set(ids[5..<15]))
                if kind == .sqlite {
                    let text = try await sql.raw("SELECT \(bind: ids[0]) AS t").first()?.decode(column: "t", as: String.self)
                    #expect(text == ids[0].uuidString)
                } else {
                    let first = try await sql.raw("SELECT maybe FROM stored_ids WHERE id = \(bind: ids[0])").first()
                    #expect(try first?.decodeOptionalUUID(column: "maybe") == ids[0])
                }
            }
        }
    }
}
