import Foundation
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import ServiceLifecycle

/// A shared PostgreSQL database, reached through a `PostgresClient` connection pool.
///
/// As a `Service` it runs the pool. `schema` (default: the server's `search_path`) lets several
/// independent Parley databases, such as parallel test runs, share one PostgreSQL database.
public final class PostgresDatabase: Database, Service {
    public let kind = DatabaseKind.postgres
    /// The pool; also used directly for LISTEN.
    public let client: PostgresClient

    /// Prepares a pool for `url` (`postgres://user:password@host:port/database?sslmode=...`).
    public init(url: String, schema: String? = nil, logger: Logger) throws {
        var configuration = try Self.configuration(url: url)
        if let schema { configuration.options.additionalStartupParameters.append(("search_path", schema)) }
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
        try await client.withConnection { connection in
            let sql = connection.sql(queryLogLevel: nil)
            try await sql.raw("BEGIN").run()
            do {
                let result = try await body(Transaction(sql: sql, kind: .postgres))
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

    /// Reads a `postgres://` or `postgresql://` URL. `sslmode` may be `disable` (the default), `prefer` or `require`;
    /// a `host` query item naming a directory connects through that Unix socket.
    static func configuration(url: String) throws -> PostgresClient.Configuration {
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
