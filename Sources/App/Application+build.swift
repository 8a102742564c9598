import API
import Auth
import Foundation
import Hummingbird
import Logging
import NIOSSL
import ServiceLifecycle
import Store

/// Builds the Parley application for `configuration`: the one builder the `parley` commands and
/// every test use.
///
/// Before the server accepts a connection, the schema is migrated and the signing keys are loaded
/// (the first node to start creates them).
public func buildApplication(
    _ configuration: AppConfiguration,
    logger: Logger
) async throws -> some ApplicationProtocol {
    let database = try await openDatabase(configuration, logger: logger)
    let store = Store(database: database)
    let tokens = AccessTokens(store: store, logger: logger)
    let authenticator = Authenticator(tokens: tokens, store: store, now: configuration.now)
    let passwordHasher = PasswordHasher(cost: configuration.passwordCost)
    let passwordResets = PasswordResetMailer(
        store: store,
        mailer: try makeMailer(configuration, logger: logger),
        publicURL: configuration.effectivePublicURL,
        now: configuration.now,
        logger: logger
    )
    let api = ParleyAPI(
        store: store,
        authenticator: authenticator,
        passwordHasher: passwordHasher,
        passwordResets: passwordResets,
        limits: configuration.limits,
        groupLimits: GroupLimits(maxMembers: configuration.maxGroupMembers),
        now: configuration.now,
        logger: logger
    )

    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(RequestMiddleware())
    router.middlewares.add(BodyLimitMiddleware(limit: configuration.maxBodySize))
    OperationsRoutes(database: database, tokens: tokens).register(on: router)
    try api.registerRoutes(on: router)

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Parley"),
        services: [
            database,
            passwordHasher,
            passwordResets,
            Janitor(store: store, now: configuration.now, logger: logger),
        ],
        logger: logger
    )
    app.beforeServerStarts {
        try await Migrator.migrate(database, logger: logger)
        try await tokens.load()
    }
    return app
}

/// The database the configuration names: PostgreSQL when a URL is given, else the SQLite file.
func openDatabase(_ configuration: AppConfiguration, logger: Logger) async throws -> any Database & Service {
    if let url = configuration.databaseURL, !url.isEmpty {
        return try PostgresDatabase(url: url, logger: logger)
    }
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    return try await SQLiteDatabase.open(path: configuration.sqlitePath, logger: logger)
}

/// SMTP when a URL is given, else the log.
func makeMailer(_ configuration: AppConfiguration, logger: Logger) throws -> any Mailer {
    guard let url = configuration.smtpURL, !url.isEmpty else { return LoggingMailer(logger: logger) }
    var smtp = try SMTPConfiguration(url: url)
    if let caFile = configuration.smtpCAFile {
        smtp.tls.additionalTrustRoots = [.file(caFile)]
    }
    return SMTPMailer(client: SMTPClient(configuration: smtp), from: configuration.mailFrom)
}

/// Applies pending migrations to the configured database and reports the versions.
public func migrateDatabase(_ configuration: AppConfiguration, logger: Logger) async throws -> (applied: [Int], current: Int) {
    let database = try await openDatabase(configuration, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        defer { group.cancelAll() }
        let applied = try await Migrator.migrate(database, logger: logger)
        let current = try await Migrator.appliedVersions(database).last ?? 0
        if let sqlite = database as? SQLiteDatabase { try await sqlite.close() }
        return (applied, current)
    }
}
