import App
import Foundation
import Logging
import Store

/// A database the tests run against: SQLite always, PostgreSQL whenever `TEST_DATABASE_URL` is set.
public enum TestBackend: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    /// The backends of this run.
    public static var all: [TestBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// The PostgreSQL the tests may use, from `TEST_DATABASE_URL`.
    public static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    public var description: String { rawValue }

    /// A logger that stays quiet unless `TEST_LOG_LEVEL` says otherwise.
    public static var logger: Logger {
        var logger = Logger(label: "parley-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// Runs `body` with an empty, private, unmigrated database of this backend, removed afterwards:
    /// a fresh SQLite file, or a fresh schema in the test PostgreSQL.
    public func withDatabase<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
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
    public func withConfiguration<T: Sendable>(_ body: @Sendable (AppConfiguration) async throws -> T) async throws -> T {
        try await withLocation { location in
            var configuration = AppConfiguration()
            configuration.passwordCost = 4
            configuration.port = 0
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
    public enum Location: Sendable {
        case sqlite(directory: String)
        /// A URL whose connections use a schema of their own.
        case postgres(url: String)
    }

    /// Creates a private location for one test's data, and removes it after `body`.
    public func withLocation<T: Sendable>(_ body: @Sendable (Location) async throws -> T) async throws -> T {
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
            try await database.write { try await $0.sql.raw(.init(sql)).run() }
        }
    }
}

extension PostgresDatabase {
    /// Runs the connection pool for as long as `body` runs.
    public func running<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// The test environment is not as the tests need it.
public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension TestBackend {
    /// Runs `body` with a migrated, empty store of this backend.
    public func withStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        try await withDatabase { database in
            try await Migrator.migrate(database, logger: Self.logger)
            return try await body(Store(database: database))
        }
    }
}

extension AppConfiguration {
    /// Runs `body` with a second connection to this configuration's database, as another process would have.
    public func withStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        if let url = databaseURL {
            let database = try PostgresDatabase(url: url, logger: TestBackend.logger)
            return try await database.running { try await body(Store(database: database)) }
        }
        let database = try await SQLiteDatabase.open(path: sqlitePath, readerCount: 1, logger: TestBackend.logger)
        do {
            let result = try await body(Store(database: database))
            try await database.close()
            return result
        } catch {
            try await database.close()
            throw error
        }
    }
}
