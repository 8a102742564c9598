import Foundation
import SQLKit
import Store
import TestSupport
import Synchronization
import Testing

/// Writes that wait together commit together — on SQLite all of them, on PostgreSQL those with
/// the same batch key — and each still succeeds or fails alone.
@Suite("Writes in batches", .timeLimit(.minutes(1)))
struct WriteBatchTests {
    private struct Refused: Error, Equatable {
        let n: Int
    }

    @Test("Writes queued behind a slow one share its successor's transaction", arguments: TestBackend.all)
    func batched(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let run = try await Self.queueBehindSlowWrite(on: database, refusing: nil)
            #expect(try await Self.numbers(in: database) == Array(0...20))
            // A write queued behind the slow one saw, besides its own row, rows of earlier writes that
            // no other connection could see yet: they were in its transaction, not committed before it.
            let seen = run.results.values.compactMap { try? $0.get() }
            #expect(seen.contains { $0.seenByWriter - $0.seenByReader > 1 }, "\(seen)")
            #expect(run.ran == run.committed, "committed callbacks in the order the writes ran, each once")
            #expect(Set(run.committed) == Set(1...20))
        }
    }

    @Test("A write that fails in a batch fails alone; the others commit, once each", arguments: TestBackend.all)
    func oneFails(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let run = try await Self.queueBehindSlowWrite(on: database, refusing: 7)
            #expect(throws: Refused(n: 7)) { try run.results[7]!.get() }
            #expect(try await Self.numbers(in: database) == [0] + (1...20).filter { $0 != 7 }, "every write but the refused one, once")
            let seen = run.results.values.compactMap { try? $0.get() }
            #expect(seen.contains { $0.seenByWriter - $0.seenByReader > 1 }, "\(seen)")
            // Writes that ran before the refused one ran again after the rollback: the last run counts.
            var lastRuns: [Int] = []
            for n in run.ran.reversed() where !lastRuns.contains(n) { lastRuns.insert(n, at: 0) }
            #expect(run.committed == lastRuns, "committed callbacks in the order the writes last ran")
            #expect(Set(run.committed) == Set((1...20).filter { $0 != 7 }), "and none for the refused one")
        }
    }

    private typealias Seen = (seenByWriter: Int, seenByReader: Int)

    /// Twenty writes, each inserting its number, queued behind a slow first write under one key;
    /// write `refusing` throws after its insert. Each write notes which rows its own connection sees
    /// and which another connection sees.
    private static func queueBehindSlowWrite(
        on database: any Database,
        refusing refused: Int?
    ) async throws -> (results: [Int: Result<Seen, Refused>], ran: [Int], committed: [Int]) {
        try await database.write { try await $0.raw("CREATE TABLE numbers (n INTEGER)").run() }
        let key = UUID()
        let ran = Order()
        let committed = Order()

        // The first write holds its key until the other twenty are queued behind it.
        let (gate, opened) = AsyncStream<Void>.makeStream()
        async let first: Void = database.write(batch: key, { sql in
            try await sql.raw("INSERT INTO numbers VALUES (0)").run()
            for await _ in gate { break }
        }, committed: { _ in })
        try await Task.sleep(for: .milliseconds(100))
        let results = try await withThrowingTaskGroup(of: (Int, Result<Seen, Refused>).self) { group in
            for n in 1...20 {
                group.addTask {
                    do {
                        let seen = try await database.write(batch: key, { sql in
                            try await sql.raw("INSERT INTO numbers VALUES (\(bind: n))").run()
                            ran.append(n)
                            if n == refused { throw Refused(n: n) }
                            // This connection sees the batch's rows so far; another one sees only what committed.
                            let writer = try await sql.raw("SELECT count(*) AS c FROM numbers").first()!.decode(column: "c", as: Int.self)
                            let reader = try await database.read { try await $0.raw("SELECT count(*) AS c FROM numbers").first()!.decode(column: "c", as: Int.self) }
                            return (seenByWriter: writer, seenByReader: reader)
                        }, committed: { _ in committed.append(n) })
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
            return try await group.reduce(into: [Int: Result<Seen, Refused>]()) { $0[$1.0] = $1.1 }
        }
        try await first
        #expect(results.count == 20)
        return (results, ran.values.filter { $0 != refused }, committed.values)
    }

    private static func numbers(in database: any Database) async throws -> [Int] {
        try await database.read { sql in
            try await sql.raw("SELECT n FROM numbers ORDER BY n").all().map { try $0.decode(column: "n", as: Int.self) }
        }
    }
}

private final class Order: Sendable {
    private let state = Mutex<[Int]>([])
    func append(_ n: Int) { state.withLock { $0.append(n) } }
    var values: [Int] { state.withLock { $0 } }
}
