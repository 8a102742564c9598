import Foundation
import SQLKit
import Store
import TestSupport
import Synchronization
import Testing

/// SQLite's writes that wait together commit together; each still succeeds or fails alone.
@Suite("SQLite writes in batches", .timeLimit(.minutes(1)))
struct WriteBatchTests {
    private struct Refused: Error, Equatable {
        let n: Int
    }

    @Test("Writes queued behind a slow one share its successor's transaction; one that fails is rolled back alone")
    func batched() async throws {
        let directory = try Repository.temporaryDirectory("parley-batches")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try await SQLiteDatabase.open(path: "\(directory)/parley.sqlite", logger: TestBackend.logger)
        try await database.write { try await $0.raw("CREATE TABLE numbers (n INTEGER)").run() }
        let ranOrder = Order()
        let committedOrder = Order()

        // The first write holds the writer until the other twenty are queued behind it.
        let (gate, opened) = AsyncStream<Void>.makeStream()
        async let first: Void = database.write { sql in
            try await sql.raw("INSERT INTO numbers VALUES (0)").run()
            for await _ in gate { break }
        }
        try await Task.sleep(for: .milliseconds(100))
        let results = try await withThrowingTaskGroup(of: (Int, Result<(seenByWriter: Int, seenByReader: Int), Refused>).self) { group in
            for n in 1...20 {
                group.addTask {
                    do {
                        let seen = try await database.write({ sql in
                            try await sql.raw("INSERT INTO numbers VALUES (\(bind: n))").run()
                            if n == 7 { throw Refused(n: n) }
                            ranOrder.append(n)
                            // This connection sees the batch's rows so far; another one sees only what committed.
                            let writer = try await sql.raw("SELECT count(*) AS c FROM numbers").first()!.decode(column: "c", as: Int.self)
                            let reader = try await database.read { try await $0.raw("SELECT count(*) AS c FROM numbers").first()!.decode(column: "c", as: Int.self) }
                            return (seenByWriter: writer, seenByReader: reader)
                        }, committed: { _ in committedOrder.append(n) })
                        return (n, .success(seen))
                    } catch let error as Refused {
                        return (n, .failure(error))
                    }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(100))
            opened.yield()
            opened.finish()
            return try await group.reduce(into: [Int: Result<(seenByWriter: Int, seenByReader: Int), Refused>]()) { $0[$1.0] = $1.1 }
        }
        try await first

        #expect(results.count == 20)
        #expect(throws: Refused(n: 7)) { try results[7]!.get() }
        let rows = try await database.read { sql in
            try await sql.raw("SELECT n FROM numbers ORDER BY n").all().map { try $0.decode(column: "n", as: Int.self) }
        }
        #expect(rows == [0] + (1...20).filter { $0 != 7 }, "every write but the refused one, once")
        // A write queued behind the slow one saw, besides its own row, rows of earlier writes that
        // no other connection could see yet: they were in its transaction, not committed before it.
        let seen = results.values.compactMap { try? $0.get() }
        #expect(seen.contains { $0.seenByWriter - $0.seenByReader > 1 }, "\(seen)")
        #expect(committedOrder.values == ranOrder.values, "committed callbacks in the order the writes ran")
        #expect(Set(committedOrder.values) == Set((1...20).filter { $0 != 7 }), "and none for the refused one")
        try await database.close()
    }
}

private final class Order: Sendable {
    private let state = Mutex<[Int]>([])
    func append(_ n: Int) { state.withLock { $0.append(n) } }
    var values: [Int] { state.withLock { $0 } }
}
