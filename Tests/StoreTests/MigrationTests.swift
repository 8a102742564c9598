import Foundation
import Store
import TestSupport
import Testing
import SQLKit

@Suite("Migrations", .timeLimit(.minutes(1)))
struct MigrationTests {
    @Test("Migrating applies every migration once, then nothing", arguments: TestBackend.all)
    func migratingTwiceAppliesNothingTheSecondTime(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let first = try await Migrator.migrate(database, logger: TestBackend.logger)
            #expect(first == Array(1...Migrator.latestVersion))
            let second = try await Migrator.migrate(database, logger: TestBackend.logger)
            #expect(second.isEmpty)
            #expect(try await Migrator.appliedVersions(database) == Array(1...Migrator.latestVersion))
        }
    }

    @Test("Processes migrating one database at once apply each migration exactly once", arguments: TestBackend.all)
    func concurrentMigrationsApplyEachMigrationOnce(backend: TestBackend) async throws {
        try await backend.withLocation { location in
            // Separate database objects stand for separate processes: separate connections (SQLite)
            // or separate pools (PostgreSQL) on the same data.
            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await Self.migrate(at: location) }
                }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            #expect(results.flatMap { $0 }.sorted() == Array(1...Migrator.latestVersion))
            #expect(results.filter { !$0.isEmpty }.count == 1)
        }
    }

    @Test("A database migrated by a newer build is refused", arguments: TestBackend.all)
    func aSchemaNewerThanTheBuildIsRefused(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            try await Migrator.migrate(database, logger: TestBackend.logger)
            try await database.write { sql in
                try await sql.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: 9999), 'future', \(bind: Date()))"
                ).run()
            }
            await #expect(throws: SchemaTooNewError.self) {
                try await Migrator.migrate(database, logger: TestBackend.logger)
            }
        }
    }

    private static func migrate(at location: TestBackend.Location) async throws -> [Int] {
        switch location {
        case .sqlite(let directory):
            let database = try await SQLiteDatabase.open(path: "\(directory)/parley.sqlite", logger: TestBackend.logger)
            do {
                let applied = try await Migrator.migrate(database, logger: TestBackend.logger)
                try await database.close()
                return applied
            } catch {
                try await database.close()
                throw error
            }
        case .postgres(let url):
            let database = try PostgresDatabase(url: url, logger: TestBackend.logger)
            return try await database.running { try await Migrator.migrate(database, logger: TestBackend.logger) }
        }
    }
}
