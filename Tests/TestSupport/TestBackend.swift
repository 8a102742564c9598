package import App
import Foundation
package import Logging
package import Store
import SQLKit
import API

/// A database the tests run against: SQLite always, PostgreSQL whenever `TEST_DATABASE_URL` is set.
package enum TestBackend: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    /// The backends of this run.
    package static var all: [TestBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// The PostgreSQL the tests may use, from `TEST_DATABASE_URL`.
    package static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    package var description: String { rawValue }

    /// A logger that stays quiet unless `TEST_LOG_LEVEL` says otherwise.
    package static var logger: Logger {
        var logger = Logger(label: "parley-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// Runs `body` with an empty, private, unmigrated database of this backend, removed afterwards:
    /// a fresh SQLite file, or a fresh schema in the test PostgreSQL.
    package func withDatabase<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        try await withLocation { location in
            switch location {
            case .sqlite(let directory):
                let database = try await SQLiteDatabase.open(path: "\(directory)/parley.sqlite", logger: Self.logger)
                do {
                    let result = try await body(database)
                    try await database.close()
                    return result
                } catch {
                    try await database.close()
                    throw error
                }
            case .postgres(let url):
                let database = try PostgresDatabase(url: url, logger: Self.logger)
                return try await database.running { try await body(database) }
            }
        }
    }

    /// Runs `body` with an app configuration whose database is private to it and removed afterwards.
    /// Password hashing is at the cheapest cost, to keep the suite fast.
    package func withConfiguration<T: Sendable>(_ body: @Sendable (AppConfiguration) async throws -> T) async throws -> T {
        try await withLocation { location in
            var configuration = AppConfiguration()
            configuration.passwordCost = 4
            configuration.port = 0
            // The suite registers many users from one address; the tests of the limit lower it again.
            configuration.limits.registrationsPerAddress = .init(limit: 100_000, window: 3600)
            switch location {
            case .sqlite(let directory):
                configuration.dataDirectory = directory
            case .postgres(let url):
                configuration.databaseURL = url
            }
            return try await body(configuration)
        }
    }

    /// Where one test's data lives.
    package enum Location: Sendable {
        case sqlite(directory: String)
        /// A URL whose connections use a schema of their own.
        case postgres(url: String)
    }

    /// Creates a private location for one test's data, and removes it after `body`.
    package func withLocation<T: Sendable>(_ body: @Sendable (Location) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("parley-tests-\(UUID().uuidString.lowercased())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return try await body(.sqlite(directory: directory))
        case .postgres:
            guard let url = Self.postgresURL else { throw TestSetupError("TEST_DATABASE_URL is not set") }
            let schema = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            try await Self.administer(url) { "CREATE SCHEMA \(schema)" }
            do {
                let separator = url.contains("?") ? "&" : "?"
                let result = try await body(.postgres(url: "\(url)\(separator)options=-c%20search_path%3D\(schema)"))
                try await Self.administer(url) { "DROP SCHEMA \(schema) CASCADE" }
                return result
            } catch {
                try? await Self.administer(url) { "DROP SCHEMA \(schema) CASCADE" }
                throw error
            }
        }
    }

    /// Runs one statement of our own making (never input) on the test PostgreSQL.
    private static func administer(_ url: String, _ statement: @Sendable () -> String) async throws {
        let database = try PostgresDatabase(url: url, logger: logger)
        let sql = statement()
        try await database.running {
            try await database.write { try await $0.raw(.init(sql)).run() }
        }
    }
}

extension PostgresDatabase {
    /// Runs the connection pool for as long as `body` runs.
    package func running<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// The test environment is not as the tests need it.
package struct TestSetupError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

extension TestBackend {
    /// Runs `body` with a migrated, empty store of this backend (and its default blob store when
    /// `blobs` is nil).
    package func withStore<T: Sendable>(blobs: (any BlobStore)? = nil, _ body: @Sendable (Store) async throws -> T) async throws -> T {
        try await withDatabase { database in
            try await Migrator.migrate(database, logger: Self.logger)
            return try await body(Store(database: database, bus: makeBus(for: database), blobs: blobs))
        }
    }
}

extension AppConfiguration {
    /// Runs `body` with a second connection to this configuration's database, as another process would have.
    package func withStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        if let url = databaseURL {
            let database = try PostgresDatabase(url: url, logger: TestBackend.logger)
            return try await database.running { try await body(Store(database: database, bus: makeBus(for: database))) }
        }
        let database = try await SQLiteDatabase.open(path: sqlitePath, readerCount: 1, logger: TestBackend.logger)
        do {
            let store = Store(database: database, bus: makeBus(for: database), blobs: FileBlobStore(directory: mediaDirectory))
            let result = try await body(store)
            try await database.close()
            return result
        } catch {
            try await database.close()
            throw error
        }
    }
}
