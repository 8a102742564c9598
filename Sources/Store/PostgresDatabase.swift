import Foundation
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import ServiceLifecycle
import Synchronization
import Models

/// A shared PostgreSQL database, reached through a `PostgresClient` connection pool.
///
/// As a `Service` it runs the pool.
public final class PostgresDatabase: Database, Service {
    public let kind = DatabaseKind.postgres
    /// The pool; also used directly for LISTEN.
    public let client: PostgresClient
    /// Where this node receives what every node commits, once a `BusListener` runs.
    public let bus = EventBus()
    private let channel = Mutex<String?>(nil)

    /// Prepares a pool for `url` (`postgres://user:password@host:port/database?sslmode=...`).
    public init(url: String, logger: Logger) throws {
        var configuration = try Self.configuration(url: url)
        configuration.options.additionalStartupParameters.append(("application_name", "parley"))
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    public func run() async throws {
        await client.run()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: nil))
        }
    }

    public func write<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        let channel = try await notifyChannel()
        return try await client.withConnection { connection in
            let sql = connection.sql(queryLogLevel: nil)
            try await sql.raw("BEGIN").run()
            do {
                let result = try await body(Transaction(sql: sql, kind: .postgres, publication: .notify(channel: channel)))
                try await sql.raw("COMMIT").run()
                return result
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func ping() async throws {
        _ = try await read { try await $0.raw("SELECT 1 AS one").first() }
    }

    public func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw
    }

    public func publish(_ signal: Signal) async throws {
        let channel = try await notifyChannel()
        let payload = try BusWire.encode(signal)
        _ = try await read { try await $0.raw("SELECT pg_notify(\(bind: channel), \(bind: payload)) AS sent").first() }
    }

    public func makeBusListener(logger: Logger) -> (any Service)? {
        BusListener(database: self, logger: logger)
    }

    /// The NOTIFY channel of this database's schema, so that Parley databases in different schemas
    /// of one PostgreSQL database (tests, say) never hear each other.
    func notifyChannel() async throws -> String {
        if let channel = channel.withLock({ $0 }) { return channel }
        let schema = try await read { try await $0.raw("SELECT current_schema() AS schema").first()?.decode(column: "schema", as: String.self) }
        let name = "parley_" + String((schema ?? "public").lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }.prefix(50))
        channel.withLock { $0 = name }
        return name
    }

    /// Reads a `postgres://` or `postgresql://` URL, as libpq does for the parts Parley supports:
    /// `sslmode` (`disable`, the default, `prefer` or `require`); `host` naming a directory, to connect
    /// through its Unix socket; `options` of `-c name=value` server settings — `options=-c%20search_path%3Dparley`
    /// keeps Parley's tables in a schema of their own.
    static func configuration(url: String) throws -> PostgresClient.Configuration {
        var configuration = try connection(url: url)
        if let options = URLComponents(string: url)?.queryItems?.last(where: { $0.name == "options" })?.value {
            configuration.options.additionalStartupParameters += try serverSettings(in: options)
        }
        return configuration
    }

    /// The `name=value` pairs of a libpq `options` string (`-c name=value`, `-cname=value`, `--name=value`).
    static func serverSettings(in options: String) throws -> [(String, String)] {
        var settings: [(String, String)] = []
        var words = options.split(separator: " ").map(String.init)[...]
        while let word = words.popFirst() {
            let setting: String
            if word == "-c", let next = words.popFirst() {
                setting = next
            } else if word.hasPrefix("--") {
                setting = String(word.dropFirst(2))
            } else if word.hasPrefix("-c") {
                setting = String(word.dropFirst(2))
            } else {
                throw DatabaseURLError(reason: "unsupported options '\(word)'; use -c name=value")
            }
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw DatabaseURLError(reason: "options need name=value") }
            settings.append((parts[0].replacingOccurrences(of: "-", with: "_"), parts[1]))
        }
        return settings
    }

    private static func connection(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "")
        else { throw DatabaseURLError(reason: "expected postgres://user:password@host:port/database") }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last }
        )
        let username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        var database = String(components.path.drop(while: { $0 == "/" }))
        if database.isEmpty { database = username }

        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let port = components.port ?? 5432
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)",
                username: username,
                password: password,
                database: database
            )
        }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "disable" {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        case let other: throw DatabaseURLError(reason: "unsupported sslmode '\(other)'")
        }
        return PostgresClient.Configuration(
            host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost",
            port: components.port ?? 5432,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
    }
}

/// A `DATABASE_URL` that cannot be used; its text never includes the password.
public struct DatabaseURLError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "Invalid database URL: \(reason)" }
}
