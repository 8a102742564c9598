package import Foundation
import Models
package import Logging
import NIOSSL
import PostgresKit
package import PostgresNIO
package import SQLKit
import ServiceLifecycle
import NIOCore
import NIOPosix

/// A shared PostgreSQL database, reached through a `PostgresClient` connection pool.
///
/// As a `Service` it runs the pool.
package final class PostgresDatabase: Database, Service {
    package let kind = DatabaseKind.postgres
    /// The pool; the bus shares it for NOTIFY and LISTEN.
    package let client: PostgresClient

    /// How long an operation may wait for a pooled connection (a batched write counts from when it
    /// was queued), then how long it may hold it, before it fails with `Problem.databaseUnavailable`
    /// (503). A connection held too long is closed, since a PostgreSQL that stopped answering would
    /// never end its query.
    package struct Timeouts: Sendable {
        package var connection: Duration
        package var operation: Duration

        package init(connection: Duration = .seconds(5), operation: Duration = .seconds(15)) {
            self.connection = connection
            self.operation = operation
        }
    }

    private let timeouts: Timeouts
    /// A node's writes into one conversation, waiting under its id.
    private let batches = WriteBatches<UUID>()

    /// Prepares a pool for `url` (`postgres://user:password@host:port/database?sslmode=...`).
    package init(url: String, timeouts: Timeouts = Timeouts(), logger: Logger) throws {
        var configuration = try Self.configuration(url: url)
        configuration.options.additionalStartupParameters.append(("application_name", "parley"))
        configuration.options.connectTimeout = timeouts.connection
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.timeouts = timeouts
    }

    package func run() async throws {
        await client.run()
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection(body)
    }

    package func write<T: Sendable>(
        batch: UUID?,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T,
        committed: @escaping @Sendable (T) -> Void
    ) async throws -> T {
        guard let batch else {
            return try await withConnection { sql in try await sql.transaction(begin: "BEGIN", body, committed: committed) }
        }
        // Its own error, when it fails alone in a batch, says what `withConnection` would have.
        let body: @Sendable (any SQLDatabase) async throws -> T = { sql in
            do {
                return try await body(sql)
            } catch where Self.isUnavailability(error) {
                throw Problem.databaseUnavailable
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            if batches.enqueue(PendingWrite(body: body, committed: committed, continuation: continuation), under: batch) {
                // Detached: the drain runs every write waiting under this key, not only this caller's.
                Task.detached { await self.drain(batch) }
            }
        }
    }

    /// Runs the writes waiting under `key`, batch after batch, until none waits.
    private func drain(_ key: UUID) async {
        while let batch = batches.next(under: key) {
            await batch.answer {
                try await withConnection(requested: batch.map(\.requested)) { sql in try await batch.run(begin: "BEGIN", on: sql) }
            }
        }
    }

    /// Runs `body` on a pooled connection within `timeouts`, for the operations asked for at
    /// `requested` (the writes of a batch share one); a database that is down, restarting or
    /// silent throws `Problem.databaseUnavailable` instead of whatever the driver said.
    ///
    /// A connection found dead before any statement on it was answered is let go and `body` runs
    /// again on another, up to `attempts` times within the same deadlines.
    private func withConnection<T: Sendable>(
        requested: [ContinuousClock.Instant] = [.now],
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            let watch = FirstStatementWatch()
            do {
                return try await onPooledConnection(requested: requested, watch: watch, body)
            } catch {
                let error = Self.isUnavailability(error) ? Problem.databaseUnavailable : error
                guard error as? Problem == .databaseUnavailable, watch.connectedButUnanswered, attempt < Self.attempts else { throw error }
                attempt += 1
            }
        }
    }

    /// How many pooled connections one operation may try when each is found dead before it answers:
    /// after a restart every idle connection of the pool is dead until the pool reads that it closed,
    /// and each try costs at most one round trip (or the 200-ms closed-connection watch), all within
    /// the operation's deadlines.
    private static let attempts = 8

    /// One attempt of `withConnection`.
    private func onPooledConnection<T: Sendable>(
        requested: [ContinuousClock.Instant],
        watch: FirstStatementWatch,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await OperationDeadline.run(
            requested: requested.min() ?? .now, connection: timeouts.connection, operation: timeouts.operation
        ) { [client, timeouts] control in
            try await client.withConnection { connection in
                control.connected()
                watch.connected()
                // A query sent on a connection that closed under it (a restart) is never answered:
                // the caller hears at once. A silent server never answers either: past the
                // deadline its connection is closed, so nothing stays waiting on it.
                let started = NIODeadline.now()
                let closedWatch = connection.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) { task in
                    if connection.isClosed {
                        control.connectionLost()
                        task.cancel()
                    } else if NIODeadline.now() - started > TimeAmount(timeouts.operation) {
                        connection.close().whenComplete { _ in }
                    }
                }
                defer { closedWatch.cancel() }
                return try await DatabaseMetrics.holding(since: requested) { try await body(watch.watching(connection.sql(queryLogLevel: nil))) }
            }
        }
    }

    /// Whether `error` says the database connection was lost or is going away, rather than that a
    /// statement was refused: a closed or broken connection, an administrator's shutdown (SQLSTATE
    /// class 57P) or a connection exception (class 08).
    static func isUnavailability(_ error: any Error) -> Bool {
        switch error {
        case is ChannelError, is IOError:
            return true
        case let error as PSQLError:
            switch error.code {
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("57P") || state.hasPrefix("08")
            default:
                return false
            }
        default:
            return false
        }
    }

    package func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw
    }

    package func isRetryable(_ error: any Error) -> Bool {
        let state = (error as? PSQLError)?.serverInfo?[.sqlState]
        return state == PostgresError.Code.deadlockDetected.raw || state == PostgresError.Code.serializationFailure.raw
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
package struct DatabaseURLError: Error, CustomStringConvertible {
    package var reason: String
    package var description: String { "Invalid database URL: \(reason)" }
}
