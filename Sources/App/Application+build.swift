import API
import Auth
package import Bus
import Foundation
package import Hummingbird
import HummingbirdCore
package import Logging
import NIOCore
import NIOSSL
import Realtime
import ServiceLifecycle
package import UnixSignals
package import Store

/// Builds the Parley application for `configuration`: the HTTP application the tests drive in
/// process. It serves REST (roles `all` and `api`); the realtime endpoint is upgraded by the same
/// server but delivers only while `buildServer`'s realtime service runs.
package func buildApplication(
    _ configuration: AppConfiguration,
    logger: Logger
) async throws -> some ApplicationProtocol {
    try await assemble(configuration, logger: logger).application
}

/// Builds everything `parley` runs: the HTTP application and, for roles `all` and `realtime`, the
/// realtime service, ordered so that on shutdown the realtime service closes every WebSocket with
/// 1001 before the HTTP server stops.
package func buildServer(
    _ configuration: AppConfiguration,
    gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
    logger: Logger
) async throws -> ParleyServer {
    let (listening, listened) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
    let parts = try await assemble(configuration, logger: logger) { channel in
        if let port = channel.localAddress?.port { listened.yield(port) }
        listened.finish()
    }
    var services: [any Service] = [parts.application] + (parts.realtime.map { [$0] } ?? [])
    if let registry = configuration.metricsRegistry, let port = configuration.metricsPort {
        services.append(
            MetricsEndpoint.application(registry: registry, host: configuration.metricsHost, port: port, sample: parts.sample, logger: logger)
        )
    }
    return ParleyServer(
        group: ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)),
        listening: listening,
        listened: listened
    )
}

/// Everything one process runs, in a service group that stops gracefully on its signals or `shutdown()`.
package struct ParleyServer: Sendable {
    let group: ServiceGroup
    /// Yields the bound port once the server listens (useful with port 0); ends when `run` does.
    package let listening: AsyncStream<Int>
    let listened: AsyncStream<Int>.Continuation

    /// Runs until shut down, then stops the services in reverse order.
    package func run() async throws {
        defer { listened.finish() }
        try await group.run()
    }

    /// Starts a graceful shutdown, as SIGTERM does.
    package func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}

/// Builds the parts: before the server accepts a connection, the schema is migrated and the
/// signing keys are loaded (the first node to start creates them).
private func assemble(
    _ configuration: AppConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async throws -> (application: some ApplicationProtocol, realtime: RealtimeServer?, sample: @Sendable () async -> [MetricsEndpoint.Sample]) {
    let database = try await openDatabase(configuration, logger: logger)
    let bus = makeBus(for: database)
    let store = Store(
        database: database,
        bus: bus,
        sessions: configuration.sessions,
        accounts: configuration.accounts,
        blobs: database.kind == .sqlite ? FileBlobStore(directory: configuration.mediaDirectory) : nil,
        logger: logger
    )
    let tokens = AccessTokens(
        store: store,
        lifetime: configuration.accessTokenLifetime,
        keyRefreshInterval: configuration.signingKeyRefresh,
        logger: logger
    )
    let authenticator = Authenticator(tokens: tokens, store: store, now: configuration.now)
    let passwordHasher = PasswordHasher(
        cost: configuration.passwordCost,
        threads: configuration.passwordHashingThreads,
        maxWaiting: configuration.passwordHashesWaiting
    )
    let images = ImageProcessor(limits: configuration.images, threads: configuration.imageThreads, maxWaiting: configuration.imagesWaiting)
    let push = PushSender(
        store: store,
        contact: configuration.pushContact,
        allowLoopback: configuration.allowLoopbackPush,
        now: configuration.now,
        logger: logger
    )
    let accountMail = AccountMailer(
        store: store,
        mailer: try makeMailer(configuration, logger: logger),
        publicURL: configuration.effectivePublicURL,
        now: configuration.now,
        logger: logger
    )

    // HEAD answers wherever GET does: load balancers and `curl -I` use it.
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.middlewares.add(RequestMiddleware(proxies: TrustedProxies(configuration.trustedProxies)))
    if !configuration.corsOrigins.isEmpty { router.middlewares.add(CORSMiddleware(allowedOrigins: Set(configuration.corsOrigins))) }
    router.middlewares.add(
        BodyLimitMiddleware(limit: configuration.maxBodySize, uploadLimit: configuration.maxUploadBodySize, uploadPath: ParleyAPI.basePath + "/uploads")
    )
    // After the body limit, which has read the body: a refused request leaves nothing unread.
    router.middlewares.add(MethodNotAllowedMiddleware(spec: String(decoding: PackageResources.openapi_yaml, as: UTF8.self), basePath: ParleyAPI.basePath))
    HealthAndSpecRoutes(database: database, tokens: tokens).register(on: router)
    if configuration.role.servesREST, let directory = configuration.publicDirectory,
        let page = WebPage(directory: directory, logger: logger)
    {
        page.register(on: router)
    }
    if configuration.role.servesREST {
        try ParleyAPI(
            store: store,
            authenticator: authenticator,
            passwordHasher: passwordHasher,
            accountMail: accountMail,
            images: images,
            push: push,
            limits: configuration.limits,
            membershipLimits: MembershipLimits(
                maxMembers: configuration.maxGroupMembers,
                maxConversationsPerUser: configuration.maxConversationsPerUser
            ),
            now: configuration.now,
            logger: logger
        ).registerRoutes(on: router)
    }

    let (databaseReady, databaseMigrated) = AsyncStream<Void>.makeStream()
    var realtime: RealtimeServer?
    // Read deadlines: a connection's first request head must come within the idle timeout, later
    // ones too (an idle keep-alive connection is closed), and each body within its own timeout.
    let headTimeout = TimeAmount(configuration.httpIdleTimeout)
    let bodyTimeout = TimeAmount(configuration.bodyReadTimeout)
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [BodyDeadlineHandler(timeout: bodyTimeout)],
        idleTimeout: headTimeout
    )
    var server = HTTPServerBuilder { responder in
        FirstHeadDeadlineChannel(wrapped: HTTP1Channel(responder: responder, configuration: http1), timeout: headTimeout)
    }
    if configuration.role.servesRealtime {
        var realtimeConfiguration = configuration.realtime
        realtimeConfiguration.trustedProxies = TrustedProxies(configuration.trustedProxies)
        realtimeConfiguration.allowedOrigins = Set(configuration.corsOrigins)
        let service = RealtimeServer(
            store: store,
            bus: bus,
            authenticator: authenticator,
            configuration: realtimeConfiguration,
            databaseReady: databaseReady,
            now: configuration.now,
            logger: logger
        )
        server = HTTPServerBuilder { responder in
            FirstHeadDeadlineChannel(wrapped: RealtimeUpgradeChannel(responder: responder, http1: http1, realtime: service), timeout: headTimeout)
        }
        HealthAndSpecRoutes.registerRealtimeHints(on: router)
        realtime = service
    }

    var services: [any Service] = [
        database,
        passwordHasher,
        images,
        accountMail,
        Janitor(store: store, eventRetention: configuration.realtime.eventRetention, now: configuration.now, logger: logger),
        StallWatch(logger: logger),
    ]
    // Nodes that serve the API send the pushes its notifications queue, finish account deletions
    // and build data exports.
    let accountJobs = AccountJobs(store: store, mail: accountMail, now: configuration.now, logger: logger)
    if configuration.role.servesREST { services += [push, accountJobs] }
    // Only nodes that deliver events listen to the other nodes.
    if configuration.role.servesRealtime, let listener = bus.listener(readEvent: store.framedEvent(in:at:), logger: logger) {
        services.append(listener)
    }
    var app = Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Parley"),
        services: services,
        onServerRunning: onServerRunning,
        logger: logger
    )
    app.beforeServerStarts {
        try await Migrator.migrate(database, logger: logger)
        try await tokens.load()
        try await store.loadMediaKey()
        try await push.loadKey()
        accountJobs.schemaReady()
        databaseMigrated.finish()
    }
    // Queue depths, read when /metrics is scraped.
    let sample: @Sendable () async -> [MetricsEndpoint.Sample] = { [realtime] in
        var samples: [MetricsEndpoint.Sample] = [("parley_mail_queued", "Account mails waiting to be sent.", "\(accountMail.queued)")]
        if let (total, largest) = realtime?.queued {
            samples += [
                ("parley_outbox_queued", "Items waiting to be written to this node's WebSockets.", "\(total)"),
                ("parley_outbox_queued_largest", "Items waiting for the connection furthest behind.", "\(largest)"),
            ]
        }
        for queue in JobQueue.allCases {
            guard let waiting = try? await store.waitingJobs(queue) else { continue }
            samples.append(("parley_jobs_waiting{queue=\"\(queue)\"}", "Work waiting in the database: pushes, exports, account deletions.", "\(waiting)"))
        }
        return samples
    }
    return (app, realtime, sample)
}

/// The database the configuration names: PostgreSQL when a URL is given, else the SQLite file.
func openDatabase(_ configuration: AppConfiguration, logger: Logger) async throws -> any Database & Service {
    if let url = configuration.databaseURL, !url.isEmpty {
        return try PostgresDatabase(url: url, timeouts: configuration.databaseTimeouts, logger: logger)
    }
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    return try await SQLiteDatabase.open(path: configuration.sqlitePath, logger: logger)
}

/// The bus that matches the database: NOTIFY/LISTEN on PostgreSQL, in process on SQLite.
package func makeBus(for database: any Database) -> EventBus {
    if let postgres = database as? PostgresDatabase { return .postgres(postgres.client) }
    return .inProcess()
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
package func migrateDatabase(_ configuration: AppConfiguration, logger: Logger) async throws -> (applied: [Int], current: Int) {
    try await withMigratedStore(configuration, logger: logger) { store, applied in
        (applied, try await Migrator.appliedVersions(store.database).last ?? 0)
    }
}

/// Adds a new token-signing key, which signs from then on (on every node within a minute); the
/// older keys keep verifying the tokens they signed. Returns the new key's id.
package func rotateSigningKey(_ configuration: AppConfiguration, logger: Logger) async throws -> String {
    try await withMigratedStore(configuration, logger: logger) { store, _ in
        let key = AccessTokens.makeKey()
        try await store.addSigningKey(key)
        return key.kid
    }
}

/// Runs `body` with a store on the configured database, migrated, for one-off commands.
private func withMigratedStore<T: Sendable>(
    _ configuration: AppConfiguration,
    logger: Logger,
    _ body: @escaping @Sendable (Store, [Int]) async throws -> T
) async throws -> T {
    let database = try await openDatabase(configuration, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        defer { group.cancelAll() }
        let applied = try await Migrator.migrate(database, logger: logger)
        let result = try await body(Store(database: database, bus: makeBus(for: database)), applied)
        if let sqlite = database as? SQLiteDatabase { try await sqlite.close() }
        return result
    }
}
