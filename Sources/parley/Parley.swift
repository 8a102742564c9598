import App
import ArgumentParser
import Foundation
import Logging
import Realtime

/// `parley`: the command line of the Parley chat backend.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley, a chat backend: a REST API under /api/v1, realtime events, a reference web page.",
        discussion: """
            Each option can also come from the environment variable named in its help; an option on the
            command line wins over the environment, which wins over the default. With no database URL,
            Parley keeps everything in an SQLite file under the data folder and needs no setup.
            The server is ready when GET /readyz answers 200.
            """,
        version: "1.0.0",
        subcommands: [Serve.self, APIOnly.self, RealtimeOnly.self, Migrate.self]
    )
}

/// `parley serve`: everything in one process.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the REST API, the realtime service and the web page in one process.",
        discussion: "Applies pending schema migrations before it accepts connections. SIGTERM or SIGINT stops it gracefully."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await runServer(role: .all, server: server, database: database)
    }
}

/// `parley api`: the REST half alone.
struct APIOnly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Run only the REST API, as one of several nodes sharing a PostgreSQL database.",
        discussion: "Needs --database-url (or DATABASE_URL): nodes share state only through PostgreSQL."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard database.resolvedURL != nil else {
            throw ValidationError("'parley api' needs PostgreSQL: set --database-url or DATABASE_URL.")
        }
    }

    func run() async throws {
        try await runServer(role: .api, server: server, database: database)
    }
}

/// `parley realtime`: the realtime half alone.
struct RealtimeOnly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "realtime",
        abstract: "Run only the realtime WebSocket service, as one of several nodes sharing a PostgreSQL database.",
        discussion: "Needs --database-url (or DATABASE_URL): events written by any node reach every node through it."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard database.resolvedURL != nil else {
            throw ValidationError("'parley realtime' needs PostgreSQL: set --database-url or DATABASE_URL.")
        }
    }

    func run() async throws {
        try await runServer(role: .realtime, server: server, database: database)
    }
}

/// `parley migrate`: bring the schema up to date and exit.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations and exit.",
        discussion: "Safe to run while servers are running, and from several processes at once."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical. [env: PARLEY_LOG_LEVEL]"))
    var logLevel: String?

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel)
        var configuration = AppConfiguration()
        database.apply(to: &configuration)
        let versions = try await migrateDatabase(configuration, logger: logger)
        print(versions.applied.isEmpty
            ? "The schema is up to date at version \(versions.current)."
            : "Applied migrations \(versions.applied.map(String.init).joined(separator: ", ")); the schema is at version \(versions.current).")
    }
}

// MARK: - Options

/// The options of a serving process.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to listen on. [env: PARLEY_HOST] (default: 127.0.0.1)", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on. [env: PARLEY_PORT] (default: 8080)", valueName: "port"))
    var port: Int?

    @Option(
        name: .customLong("smtp-url"),
        help: ArgumentHelp(
            "Outgoing mail server, smtp://user:password@host:port (STARTTLS when offered) or smtps://… (TLS). Unset: mail is written to the log. [env: PARLEY_SMTP_URL]",
            valueName: "url"
        )
    )
    var smtpURL: String?

    @Option(
        name: .customLong("smtp-ca-file"),
        help: ArgumentHelp("PEM certificates to trust for the mail server's TLS, besides the system's. [env: PARLEY_SMTP_CA_FILE]", valueName: "path")
    )
    var smtpCAFile: String?

    @Option(help: ArgumentHelp("Sender of outgoing mail. [env: PARLEY_MAIL_FROM] (default: Parley <parley@localhost>)", valueName: "mailbox"))
    var mailFrom: String?

    @Option(
        name: .customLong("public-url"),
        help: ArgumentHelp("Base URL that users reach, for links in mail. [env: PARLEY_PUBLIC_URL] (default: http://HOST:PORT)", valueName: "url")
    )
    var publicURL: String?

    @Option(help: ArgumentHelp("bcrypt cost of password hashes, 4-31; each step doubles the work. [env: PARLEY_PASSWORD_COST] (default: 12)", valueName: "cost"))
    var passwordCost: Int?

    @Option(help: ArgumentHelp("Members of one group at most, owner included. [env: PARLEY_MAX_GROUP_MEMBERS] (default: 1000)", valueName: "count"))
    var maxGroupMembers: Int?

    @Option(help: ArgumentHelp("Days the event log keeps events for resuming clients. [env: PARLEY_EVENT_RETENTION_DAYS] (default: 30)", valueName: "days"))
    var eventRetentionDays: Int?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical. [env: PARLEY_LOG_LEVEL] (default: info)", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let days = resolvedInt(eventRetentionDays, "PARLEY_EVENT_RETENTION_DAYS"), days < 1 {
            throw ValidationError("Keep events for at least a day.")
        }
        if let members = resolvedInt(maxGroupMembers, "PARLEY_MAX_GROUP_MEMBERS"), members < 2 {
            throw ValidationError("A group must be able to hold at least 2 members.")
        }
        if let port = resolvedInt(port, "PARLEY_PORT"), !(0...65535).contains(port) {
            throw ValidationError("The port must be between 0 and 65535.")
        }
        if let cost = resolvedInt(passwordCost, "PARLEY_PASSWORD_COST"), !(4...31).contains(cost) {
            throw ValidationError("The password cost must be between 4 and 31.")
        }
        if let level = resolved(logLevel, "PARLEY_LOG_LEVEL"), Logger.Level(rawValue: level) == nil {
            throw ValidationError("Unknown log level '\(level)'.")
        }
    }

    func apply(to configuration: inout AppConfiguration) {
        if let host = resolved(host, "PARLEY_HOST") { configuration.host = host }
        if let port = resolvedInt(port, "PARLEY_PORT") { configuration.port = port }
        configuration.smtpURL = resolved(smtpURL, "PARLEY_SMTP_URL")
        configuration.smtpCAFile = resolved(smtpCAFile, "PARLEY_SMTP_CA_FILE")
        if let mailFrom = resolved(mailFrom, "PARLEY_MAIL_FROM") { configuration.mailFrom = mailFrom }
        configuration.publicURL = resolved(publicURL, "PARLEY_PUBLIC_URL")
        if let cost = resolvedInt(passwordCost, "PARLEY_PASSWORD_COST") { configuration.passwordCost = cost }
        if let members = resolvedInt(maxGroupMembers, "PARLEY_MAX_GROUP_MEMBERS") { configuration.maxGroupMembers = members }
        if let days = resolvedInt(eventRetentionDays, "PARLEY_EVENT_RETENTION_DAYS") {
            configuration.realtime.eventRetention = TimeInterval(days) * 24 * 3600
        }
    }
}

/// Where the data lives.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp("Folder for the SQLite database file. [env: PARLEY_DATA_DIR] (default: ./parley-data)", valueName: "path")
    )
    var dataDir: String?

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp("PostgreSQL instead of SQLite: postgres://user:password@host:port/database[?sslmode=require]. [env: DATABASE_URL]", valueName: "url")
    )
    var databaseURL: String?

    var resolvedURL: String? { resolved(databaseURL, "DATABASE_URL") }

    func apply(to configuration: inout AppConfiguration) {
        if let dataDir = resolved(dataDir, "PARLEY_DATA_DIR") { configuration.dataDirectory = dataDir }
        configuration.databaseURL = resolvedURL
    }
}

// MARK: - Running

func runServer(role: AppConfiguration.Role, server: ServerOptions, database: DatabaseOptions) async throws {
    let logger = try bootstrapLogging(level: server.logLevel)
    var configuration = AppConfiguration()
    configuration.role = role
    server.apply(to: &configuration)
    database.apply(to: &configuration)
    logger.info(
        "Starting Parley",
        metadata: [
            "role": "\(role.rawValue)",
            "address": "\(configuration.host):\(configuration.port)",
            "database": "\(configuration.databaseURL == nil ? "sqlite:\(configuration.sqlitePath)" : "postgresql")",
            "mail": "\(configuration.smtpURL == nil ? "log" : "smtp")",
        ]
    )
    try await buildServer(configuration, logger: logger).run()
}

func bootstrapLogging(level: String?) throws -> Logger {
    let level = resolved(level, "PARLEY_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardOutput(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "parley")
}

/// The option's value, else the environment's, else nil.
func resolved(_ option: String?, _ environment: String) -> String? {
    if let option { return option }
    guard let value = ProcessInfo.processInfo.environment[environment], !value.isEmpty else { return nil }
    return value
}

func resolvedInt(_ option: Int?, _ environment: String) -> Int? {
    option ?? resolved(nil, environment).flatMap(Int.init)
}
