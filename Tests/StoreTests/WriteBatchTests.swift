import Foundation
import Models
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

    @Test(
        "A write queued behind a batch the database never answers has spent its wait for a connection: it fails with that batch, not a connection timeout later",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func queuedBehindStalledBatch() async throws {
        let postgresURL = try #require(TestBackend.postgresURL)
        let target = try #require(URLComponents(string: postgresURL))
        let proxy = try await TCPProxy(to: target.host ?? "127.0.0.1", port: target.port ?? 5432)
        defer { Task { await proxy.stop() } }
        try await TestBackend.postgres.withLocation { location in
            guard case .postgres(let url) = location, var proxied = URLComponents(string: url) else { return }
            proxied.port = proxy.port
            let timeouts = PostgresDatabase.Timeouts(connection: .seconds(1), operation: .seconds(3))
            let proxiedURL = try #require(proxied.string)
            let database = try PostgresDatabase(url: proxiedURL, timeouts: timeouts, logger: TestBackend.logger)
            try await database.running {
                // Open a few connections, so the queued writes find one idle in the pool, not a new one to wait for.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { try await database.read { try await $0.raw("SELECT pg_sleep(0.2)").run() } } }
                    try await group.waitForAll()
                }
                await proxy.stall()
                let key = UUID()
                let clock = ContinuousClock()
                let write: @Sendable () async -> (Result<Void, any Error>, ContinuousClock.Instant) = {
                    do {
                        try await database.write(batch: key, { try await $0.raw("SELECT 1").run() }, committed: { _ in })
                        return (.success(()), clock.now)
                    } catch {
                        return (.failure(error), clock.now)
                    }
                }
                async let first = write()
                try await Task.sleep(for: .milliseconds(300))
                let queued = await withTaskGroup(of: (Result<Void, any Error>, ContinuousClock.Instant).self) { group in
                    for _ in 0..<5 { group.addTask { await write() } }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let (firstResult, firstEnded) = await first
                #expect(throws: Problem.databaseUnavailable) { try firstResult.get() }
                for (result, ended) in queued {
                    #expect(throws: Problem.databaseUnavailable) { try result.get() }
                    #expect(ended - firstEnded < .milliseconds(500), "queued 0.3 s after the first, past its 1-s wait for a connection when the first failed")
                }
                await proxy.unstall()
            }
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
