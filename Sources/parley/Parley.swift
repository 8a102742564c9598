import App
import ArgumentParser
import Auth
import Foundation
import Logging
import Metrics
import Prometheus
import Realtime
import API
import Store

/// `parley`: the command line of the Parley chat backend.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley, a chat backend: a REST API under /api/v1, realtime events, a reference web page.",
        // One line per paragraph: the help wraps it to the terminal's width.
        discussion: """
            Start with `parley serve`: one process, everything in an SQLite file under ./parley-data, \
            no setup. `api` and `realtime` run the two halves as separate nodes sharing a PostgreSQL \
            database; `migrate` and `keys` are one-off commands. `parley help <subcommand>` lists its \
            options.

            Each option can also come from the environment variable named in its help; the command \
            line wins over the environment, which wins over the default. The server is ready when \
            GET /readyz answers 200.
            """,
        version: "1.0.0",
        subcommands: [Serve.self, APIOnly.self, RealtimeOnly.self, Migrate.self, Keys.self]
    )
}

/// `parley serve`: everything in one process.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the REST API, the realtime service and the web page in one process.",
        usage: "parley serve [<options>]",
        discussion: "Applies pending schema migrations before it accepts connections. SIGTERM or SIGINT stops it gracefully."
    )

    @OptionGroup(title: "Serving") var server: ServerOptions
    @OptionGroup(title: "The REST API") var api: APIOptions
    @OptionGroup(title: "Realtime") var realtime: RealtimeOptions
    @OptionGroup(title: "The database") var database: DatabaseOptions

    func run() async throws {
        try await runServer(role: .all, server: server, api: api, realtime: realtime) { database.apply(to: &$0) }
    }
}

/// `parley api`: the REST half alone.
struct APIOnly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Run only the REST API, as one of several nodes sharing a PostgreSQL database.",
        usage: "parley api [<options>]",
        discussion: "Needs --database-url (or DATABASE_URL): nodes share state only through PostgreSQL."
    )

    @OptionGroup(title: "Serving") var server: ServerOptions
    @OptionGroup(title: "The REST API") var api: APIOptions
    @OptionGroup(title: "The database") var database: PostgresOptions

    func validate() throws {
        try database.require(for: "api")
    }

    func run() async throws {
        try await runServer(role: .api, server: server, api: api) { database.apply(to: &$0) }
    }
}

/// `parley realtime`: the realtime half alone.
struct RealtimeOnly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "realtime",
        abstract: "Run only the realtime WebSocket service, as one of several nodes sharing a PostgreSQL database.",
        usage: "parley realtime [<options>]",
        discussion: "Needs --database-url (or DATABASE_URL): events written by any node reach every node through it."
    )

    @OptionGroup(title: "Serving") var server: ServerOptions
    @OptionGroup(title: "Realtime") var realtime: RealtimeOptions
    @OptionGroup(title: "The database") var database: PostgresOptions

    func validate() throws {
        try database.require(for: "realtime")
    }

    func run() async throws {
        try await runServer(role: .realtime, server: server, realtime: realtime) { database.apply(to: &$0) }
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

/// `parley keys`: the token-signing keys.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the keys that sign access tokens.",
        subcommands: [Rotate.self]
    )

    /// `parley keys rotate`.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Add a new signing key; new tokens are signed with it.",
            discussion: """
                Running nodes switch to the new key within a minute, without a restart. The older keys keep \
                verifying the tokens they signed until those expire, and are deleted a day after they were \
                replaced, so nobody is signed out. Rotate when a key may have leaked, or on a schedule.
                """
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let logger = try bootstrapLogging(level: nil)
            var configuration = AppConfiguration()
            database.apply(to: &configuration)
            let kid = try await rotateSigningKey(configuration, logger: logger)
            print("Added signing key \(kid); new access tokens are signed with it.")
        }
    }
}

// MARK: - Options

/// The options of every serving process: where it listens, whom it trusts, how long sessions and
/// the event log last, and how much it logs.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to listen on. [env: PARLEY_HOST] (default: 127.0.0.1)", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on. [env: PARLEY_PORT] (default: 8080)", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("Days a session lasts from sign-in, however much it is used; then its owner signs in again. [env: PARLEY_SESSION_LIFETIME_DAYS] (default: 90)", valueName: "days"))
    var sessionLifetimeDays: Int?

    @Option(help: ArgumentHelp("Days the event log keeps events for resuming clients. [env: PARLEY_EVENT_RETENTION_DAYS] (default: 30)", valueName: "days"))
    var eventRetentionDays: Int?

    @Option(
        name: .customLong("cors-origins"),
        help: ArgumentHelp(
            "Origins of web pages elsewhere that may use the API and open realtime connections, comma-separated (https://chat.example.org). [env: PARLEY_CORS_ORIGINS]",
            valueName: "origins"
        )
    )
    var corsOrigins: String?

    @Option(
        name: .customLong("trusted-proxies"),
        help: ArgumentHelp(
            "Reverse proxies whose X-Forwarded-For and Forwarded headers name the client, as comma-separated CIDRs (10.0.0.0/8,::1). Unset: the peer's own address counts. [env: PARLEY_TRUSTED_PROXIES]",
            valueName: "cidrs"
        )
    )
    var trustedProxies: String?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical. [env: PARLEY_LOG_LEVEL] (default: info)", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Log format: text, or json (one object per line). [env: PARLEY_LOG_FORMAT] (default: text)", valueName: "format"))
    var logFormat: String?

    @Option(help: ArgumentHelp("Address of the /metrics listener. [env: PARLEY_METRICS_HOST] (default: 127.0.0.1)", valueName: "address"))
    var metricsHost: String?

    @Option(help: ArgumentHelp("Port of the /metrics listener (Prometheus text format), apart from the public one; unset: no metrics. [env: PARLEY_METRICS_PORT]", valueName: "port"))
    var metricsPort: Int?

    /// How JSON logs name this node: the host's name and the port.
    var nodeName: String {
        let port = (try? resolvedInt(port, "PARLEY_PORT")) ?? nil
        return ProcessInfo.processInfo.hostName + ":" + String(port ?? 8080)
    }

    func validate() throws {
        var configuration = AppConfiguration()
        try apply(to: &configuration)
        if let days = try resolvedInt(eventRetentionDays, "PARLEY_EVENT_RETENTION_DAYS"), days < 1 {
            throw ValidationError("Keep events for at least a day.")
        }
        try requirePositive([(sessionLifetimeDays, "PARLEY_SESSION_LIFETIME_DAYS")])
        if let port = try resolvedInt(port, "PARLEY_PORT"), !(0...65535).contains(port) {
            throw ValidationError("The port must be between 0 and 65535.")
        }
        if let level = resolved(logLevel, "PARLEY_LOG_LEVEL"), Logger.Level(rawValue: level) == nil {
            throw ValidationError("Unknown log level '\(level)'.")
        }
        if let port = try resolvedInt(metricsPort, "PARLEY_METRICS_PORT"), !(0...65535).contains(port) {
            throw ValidationError("The metrics port must be between 0 and 65535.")
        }
        if let format = resolved(logFormat, "PARLEY_LOG_FORMAT"), !["text", "json"].contains(format) {
            throw ValidationError("Unknown log format '\(format)': text or json.")
        }
    }

    func apply(to configuration: inout AppConfiguration) throws {
        if let host = resolved(host, "PARLEY_HOST") { configuration.host = host }
        if let port = try resolvedInt(port, "PARLEY_PORT") { configuration.port = port }
        if let days = try resolvedInt(sessionLifetimeDays, "PARLEY_SESSION_LIFETIME_DAYS") {
            configuration.sessions.absoluteLifetime = TimeInterval(days) * 24 * 3600
        }
        if let days = try resolvedInt(eventRetentionDays, "PARLEY_EVENT_RETENTION_DAYS") {
            configuration.realtime.eventRetention = TimeInterval(days) * 24 * 3600
        }
        if let origins = resolved(corsOrigins, "PARLEY_CORS_ORIGINS") {
            configuration.corsOrigins = try origins.split(separator: ",").map { text in
                let origin = text.trimmingCharacters(in: .whitespaces)
                guard let url = URL(string: origin), ["http", "https"].contains(url.scheme), url.host != nil, url.path.isEmpty else {
                    throw ValidationError("'\(origin)' in --cors-origins is not an origin (scheme://host[:port]).")
                }
                return origin
            }
        }
        if let proxies = resolved(trustedProxies, "PARLEY_TRUSTED_PROXIES") {
            configuration.trustedProxies = try proxies.split(separator: ",").map { text in
                guard let network = CIDR(text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("'\(text)' in --trusted-proxies is not an address or a CIDR network.")
                }
                return network
            }
        }
    }
}

/// The options of a process that serves the REST API: mail, passwords, limits, images, the page.
struct APIOptions: ParsableArguments {
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

    @Option(help: ArgumentHelp("Accounts one client address may register per hour. [env: PARLEY_REGISTRATIONS_PER_HOUR] (default: 20)", valueName: "count"))
    var registrationsPerHour: Int?

    @Option(help: ArgumentHelp("Conversations one user may belong to at most. [env: PARLEY_MAX_CONVERSATIONS_PER_USER] (default: 10000)", valueName: "count"))
    var maxConversationsPerUser: Int?

    @Option(help: ArgumentHelp("Bytes of one uploaded image at most. [env: PARLEY_MAX_UPLOAD_BYTES] (default: 10485760, 10 MiB)", valueName: "bytes"))
    var maxUploadBytes: Int?

    @Option(help: ArgumentHelp("Pixels of one uploaded image at most, all frames together. [env: PARLEY_MAX_IMAGE_PIXELS] (default: 50000000)", valueName: "count"))
    var maxImagePixels: Int?

    @Option(help: ArgumentHelp("Images one user may upload per hour. [env: PARLEY_UPLOADS_PER_HOUR] (default: 100)", valueName: "count"))
    var uploadsPerHour: Int?

    @Option(help: ArgumentHelp("Days a user waits after changing their username before changing it again; 0: no wait. [env: PARLEY_USERNAME_CHANGE_DAYS] (default: 30)", valueName: "days"))
    var usernameChangeDays: Int?

    @Option(help: ArgumentHelp("Days the username and e-mail address of a deleted account stay reserved; then anyone may take them. [env: PARLEY_DELETED_NAME_DAYS] (default: 30)", valueName: "days"))
    var deletedNameDays: Int?

    @Option(
        name: .customLong("public-dir"),
        help: ArgumentHelp("Folder of the web page served at /. [env: PARLEY_PUBLIC_DIR] (default: ./Public)", valueName: "path")
    )
    var publicDir: String?

    @Flag(
        name: .customLong("require-verified-email"),
        help: "Let users send messages only once they confirmed their e-mail address with the mailed link. [env: PARLEY_REQUIRE_VERIFIED_EMAIL=1]"
    )
    var requireVerifiedEmail = false

    @Flag(
        name: .customLong("allow-loopback-push"),
        help: "Also send Web Push to http:// endpoints on this machine's loopback (for tests; never in production). [env: PARLEY_ALLOW_LOOPBACK_PUSH=1]"
    )
    var allowLoopbackPush = false

    func validate() throws {
        var configuration = AppConfiguration()
        try apply(to: &configuration)
        if let members = try resolvedInt(maxGroupMembers, "PARLEY_MAX_GROUP_MEMBERS"), members < 2 {
            throw ValidationError("A group must be able to hold at least 2 members.")
        }
        try requirePositive([
            (maxConversationsPerUser, "PARLEY_MAX_CONVERSATIONS_PER_USER"), (registrationsPerHour, "PARLEY_REGISTRATIONS_PER_HOUR"),
            (maxUploadBytes, "PARLEY_MAX_UPLOAD_BYTES"), (maxImagePixels, "PARLEY_MAX_IMAGE_PIXELS"), (uploadsPerHour, "PARLEY_UPLOADS_PER_HOUR"),
        ])
        if let days = try resolvedInt(usernameChangeDays, "PARLEY_USERNAME_CHANGE_DAYS"), days < 0 {
            throw ValidationError("The days between username changes cannot be negative.")
        }
        if let days = try resolvedInt(deletedNameDays, "PARLEY_DELETED_NAME_DAYS"), days < 0 {
            throw ValidationError("The days a deleted account's name stays reserved cannot be negative.")
        }
        if let cost = try resolvedInt(passwordCost, "PARLEY_PASSWORD_COST"), !(4...31).contains(cost) {
            throw ValidationError("The password cost must be between 4 and 31.")
        }
    }

    func apply(to configuration: inout AppConfiguration) throws {
        configuration.smtpURL = resolved(smtpURL, "PARLEY_SMTP_URL")
        configuration.smtpCAFile = resolved(smtpCAFile, "PARLEY_SMTP_CA_FILE")
        if let mailFrom = resolved(mailFrom, "PARLEY_MAIL_FROM") { configuration.mailFrom = mailFrom }
        configuration.publicURL = resolved(publicURL, "PARLEY_PUBLIC_URL")
        if let cost = try resolvedInt(passwordCost, "PARLEY_PASSWORD_COST") { configuration.passwordCost = cost }
        if let members = try resolvedInt(maxGroupMembers, "PARLEY_MAX_GROUP_MEMBERS") { configuration.maxGroupMembers = members }
        if let bytes = try resolvedInt(maxUploadBytes, "PARLEY_MAX_UPLOAD_BYTES") { configuration.images.maxBytes = bytes }
        if let pixels = try resolvedInt(maxImagePixels, "PARLEY_MAX_IMAGE_PIXELS") { configuration.images.maxPixels = pixels }
        if let count = try resolvedInt(uploadsPerHour, "PARLEY_UPLOADS_PER_HOUR") {
            configuration.limits.uploadsPerUser = RateLimiter.Rule(limit: count, window: 3600)
        }
        if let count = try resolvedInt(maxConversationsPerUser, "PARLEY_MAX_CONVERSATIONS_PER_USER") { configuration.maxConversationsPerUser = count }
        if let count = try resolvedInt(registrationsPerHour, "PARLEY_REGISTRATIONS_PER_HOUR") {
            configuration.limits.registrationsPerAddress = .init(limit: count, window: 3600)
        }
        if let days = try resolvedInt(usernameChangeDays, "PARLEY_USERNAME_CHANGE_DAYS") {
            configuration.accounts.usernameChangeInterval = TimeInterval(days) * 24 * 3600
        }
        if let days = try resolvedInt(deletedNameDays, "PARLEY_DELETED_NAME_DAYS") {
            configuration.accounts.deletedNameGrace = TimeInterval(days) * 24 * 3600
        }
        if let directory = resolved(publicDir, "PARLEY_PUBLIC_DIR") { configuration.publicDirectory = directory }
        configuration.allowLoopbackPush = try allowLoopbackPush || resolvedFlag("PARLEY_ALLOW_LOOPBACK_PUSH")
        configuration.accounts.requiresVerifiedEmail = try requireVerifiedEmail || resolvedFlag("PARLEY_REQUIRE_VERIFIED_EMAIL")
    }
}

/// The options of a process that serves realtime connections.
struct RealtimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Realtime connections one user may have open on a node; more are closed with 4010. [env: PARLEY_MAX_CONNECTIONS_PER_USER] (default: 32)", valueName: "count"))
    var maxConnectionsPerUser: Int?

    @Option(help: ArgumentHelp("Realtime connections one client address (an IPv6 client's /64) may have open on a node; more are closed with 4010. [env: PARLEY_MAX_CONNECTIONS_PER_ADDRESS] (default: 1024)", valueName: "count"))
    var maxConnectionsPerAddress: Int?

    func validate() throws {
        try requirePositive([(maxConnectionsPerUser, "PARLEY_MAX_CONNECTIONS_PER_USER"), (maxConnectionsPerAddress, "PARLEY_MAX_CONNECTIONS_PER_ADDRESS")])
    }

    func apply(to configuration: inout AppConfiguration) throws {
        if let count = try resolvedInt(maxConnectionsPerUser, "PARLEY_MAX_CONNECTIONS_PER_USER") { configuration.realtime.maxConnectionsPerUser = count }
        if let count = try resolvedInt(maxConnectionsPerAddress, "PARLEY_MAX_CONNECTIONS_PER_ADDRESS") {
            configuration.realtime.maxConnectionsPerAddress = count
        }
    }
}

/// Refuses a count below 1, naming its option.
func requirePositive(_ counts: [(Int?, String)]) throws {
    for (value, name) in counts {
        if let count = try resolvedInt(value, name), count < 1 {
            throw ValidationError("\(name.dropFirst(7).lowercased().replacingOccurrences(of: "_", with: "-")) must be at least 1.")
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
        help: ArgumentHelp(
            "PostgreSQL instead of SQLite: postgres://user:password@host:port/database[?sslmode=require]; add options=-c%20search_path%3Dparley to keep Parley's tables in a schema of their own. [env: DATABASE_URL] (default: none, SQLite)",
            valueName: "url"
        )
    )
    var databaseURL: String?

    var resolvedURL: String? { resolved(databaseURL, "DATABASE_URL") }

    func apply(to configuration: inout AppConfiguration) {
        if let dataDir = resolved(dataDir, "PARLEY_DATA_DIR") { configuration.dataDirectory = dataDir }
        configuration.databaseURL = resolvedURL
    }
}

/// The PostgreSQL database of `api` and `realtime` nodes, which run on nothing else.
struct PostgresOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "The PostgreSQL every node shares, required: postgres://user:password@host:port/database[?sslmode=require]; add options=-c%20search_path%3Dparley to keep Parley's tables in a schema of their own. [env: DATABASE_URL]",
            valueName: "url"
        )
    )
    var databaseURL: String?

    func require(for command: String) throws {
        guard resolved(databaseURL, "DATABASE_URL") != nil else {
            throw ValidationError("'parley \(command)' needs PostgreSQL: set --database-url or DATABASE_URL.")
        }
    }

    func apply(to configuration: inout AppConfiguration) {
        configuration.databaseURL = resolved(databaseURL, "DATABASE_URL")
    }
}

// MARK: - Running

/// Runs a server of `role` with the options its command has.
func runServer(
    role: AppConfiguration.Role,
    server: ServerOptions,
    api: APIOptions? = nil,
    realtime: RealtimeOptions? = nil,
    database: (inout AppConfiguration) -> Void
) async throws {
    let logger = try bootstrapLogging(level: server.logLevel, json: resolved(server.logFormat, "PARLEY_LOG_FORMAT") == "json", node: server.nodeName)
    var configuration = AppConfiguration()
    configuration.role = role
    try server.apply(to: &configuration)
    if let port = try resolvedInt(server.metricsPort, "PARLEY_METRICS_PORT") {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        configuration.metricsRegistry = registry
        configuration.metricsPort = port
        configuration.metricsHost = resolved(server.metricsHost, "PARLEY_METRICS_HOST") ?? configuration.metricsHost
    }
    try api?.apply(to: &configuration)
    try realtime?.apply(to: &configuration)
    database(&configuration)
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

/// Logs to standard output at `level`, as text or, with `json`, as one JSON object per line that
/// names `node`.
func bootstrapLogging(level: String?, json: Bool = false, node: String = "") throws -> Logger {
    let level = resolved(level, "PARLEY_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
    LoggingSystem.bootstrap { label in
        if json {
            var handler = JSONLogHandler(label: label, node: node)
            handler.logLevel = level
            return handler
        }
        var handler = TextLogHandler(label: label)
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

/// Whether the environment turns a flag on: `1` or `true` on, `0` or `false` (or unset) off; anything else is refused.
func resolvedFlag(_ environment: String) throws -> Bool {
    switch resolved(nil, environment)?.lowercased() {
    case nil, "0", "false": false
    case "1", "true": true
    case let text?: throw ValidationError("\(environment) must be 1 or 0 (true or false), not '\(text)'.")
    }
}

/// The option's whole number, else the environment's (refusing one that is not a whole number), else nil.
func resolvedInt(_ option: Int?, _ environment: String) throws -> Int? {
    if let option { return option }
    guard let text = resolved(nil, environment) else { return nil }
    guard let value = Int(text) else { throw ValidationError("\(environment) must be a whole number, not '\(text)'.") }
    return value
}
