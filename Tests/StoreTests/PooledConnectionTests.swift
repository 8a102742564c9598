import Foundation
import SQLKit
import Store
import TestSupport
import Testing

/// PostgreSQL connections that die while idle in the pool.
@Suite("Pooled PostgreSQL connections", .timeLimit(.minutes(1)))
struct PooledConnectionTests {
    @Test(
        "Reads and writes right after the pool's idle connections were terminated succeed, on another connection",
        .enabled(if: TestBackend.postgresURL != nil, "needs TEST_DATABASE_URL")
    )
    func idleConnectionsTerminated() async throws {
        let postgresURL = try #require(TestBackend.postgresURL)
        try await TestBackend.postgres.withDatabase { database in
            try await database.write { try await $0.raw("CREATE TABLE numbers (n INTEGER)").run() }
            let admin = try PostgresDatabase(url: postgresURL, logger: TestBackend.logger)
            try await admin.running {
                var failures: [String] = []
                for round in 0..<60 {
                    // A few idle connections in the pool, each of which last ran a query we can find it by.
                    let marker = "marker_\(round)"
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<4 {
                            group.addTask { try await database.read { try await $0.raw("SELECT pg_sleep(0.01) AS \(unsafeRaw: marker)").run() } }
                        }
                        try await group.waitForAll()
                    }
                    // Their server processes end, and are gone, before the pool hears of it.
                    let idle = "application_name = 'parley' AND state = 'idle' AND query LIKE '%\(marker)%'"
                    try await admin.read { try await $0.raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE \(unsafeRaw: idle)").run() }
                    try await eventually(timeout: .seconds(5), "terminated") { () -> Bool? in
                        try await admin.read { try await $0.raw("SELECT count(*) AS c FROM pg_stat_activity WHERE \(unsafeRaw: idle)").first()!.decode(column: "c", as: Int.self) } == 0 ? true : nil
                    }
                    async let read: Void = database.read { try await $0.raw("SELECT count(*) FROM numbers").run() }
                    async let write: Void = database.write { try await $0.raw("INSERT INTO numbers VALUES (\(bind: round))").run() }
                    do { try await read } catch { failures.append("round \(round), read: \(error)") }
                    do { try await write } catch { failures.append("round \(round), write: \(error)") }
                }
                #expect(failures.isEmpty, "\(failures)")
                let count = try await database.read { try await $0.raw("SELECT count(*) AS c FROM numbers").first()!.decode(column: "c", as: Int.self) }
                #expect(count == 60 - failures.filter { $0.contains("write") }.count, "each write that succeeded applied once")
            }
        }
    }
}
