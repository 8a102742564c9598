package import API
package import Auth
package import Store
package import Realtime
package import Foundation
import Logging
package import Prometheus

/// Everything that varies between deployments of Parley, with defaults that work on a laptop.
package struct AppConfiguration: Sendable {
    /// Which halves of Parley this process serves.
    package enum Role: String, Sendable {
        /// REST, realtime and the web page: `parley serve`.
        case all
        /// REST only: `parley api`.
        case api
        /// The realtime WebSocket service only: `parley realtime`.
        case realtime

        var servesREST: Bool { self != .realtime }
        var servesRealtime: Bool { self != .api }
    }

    package var role: Role = .all
    package var host = "127.0.0.1"
    package var port = 8080
    /// Holds the SQLite file when no database URL is given.
    package var dataDirectory = "./parley-data"
    /// PostgreSQL instead of SQLite.
    package var databaseURL: String?
    /// How long PostgreSQL operations wait, before answering 503 (shorter in tests).
    package var databaseTimeouts = PostgresDatabase.Timeouts()
    /// Outgoing mail; without it, mail is written to the log.
    package var smtpURL: String?
    /// A PEM file of certificates to trust for the SMTP server's TLS, besides the system's.
    package var smtpCAFile: String?
    /// The `From` of outgoing mail.
    package var mailFrom = "Parley <parley@localhost>"
    /// The base of links in mail; `http://HOST:PORT` when unset.
    package var publicURL: String?
    /// How long sessions live: idle, in all, and how soon a retried refresh is recognized.
    package var sessions = SessionPolicy()
    /// How often a node looks for a newer signing key (`parley keys rotate`), in seconds.
    package var signingKeyRefresh: TimeInterval = 60
    /// How long access tokens live; 15 minutes, shorter only in tests.
    package var accessTokenLifetime = AccessTokens.defaultLifetime
    /// The bcrypt cost of new password hashes.
    package var passwordCost = 12
    /// Threads that hash passwords; by default one fewer than the cores, so the event loops keep one.
    package var passwordHashingThreads = PasswordHasher.defaultThreads
    /// Password hashes that may wait for a thread; more are refused with 503 and `Retry-After`.
    package var passwordHashesWaiting = 16
    /// What uploaded images may be: bytes and pixels.
    package var images = ImageLimits()
    /// Threads that process images; by default one fewer than the cores.
    package var imageThreads = PasswordHasher.defaultThreads
    /// Images that may wait for a thread; more are refused with 503 and `Retry-After`.
    package var imagesWaiting = 16
    /// The folder of the reference web page, served at `/`; nil serves none.
    package var publicDirectory: String? = "Public"
    /// Origins of web pages elsewhere that may use the REST API and open realtime connections.
    package var corsOrigins: [String] = []
    /// Whether Web Push may go to `http://` loopback endpoints (tests); never in production.
    package var allowLoopbackPush = false
    /// Where `/metrics` listens; off unless a port is set. Its registry is the one the process's
    /// swift-metrics factory writes to.
    package var metricsHost = "127.0.0.1"
    package var metricsPort: Int?
    package var metricsRegistry: PrometheusCollectorRegistry?
    /// Whether sending waits for a verified address, how often a username may change, how long a
    /// deleted account's name stays reserved.
    package var accounts = AccountPolicy()

    /// The VAPID contact push services may write to: the sender address of mail.
    package var pushContact: String {
        let address = mailFrom.split(separator: "<").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "> ")) } ?? mailFrom
        return "mailto:\(address)"
    }
    /// Reverse proxies whose `X-Forwarded-For` and `Forwarded` headers name the client.
    package var trustedProxies: [CIDR] = []
    /// Budgets for logins and password resets.
    package var limits = RateLimits()
    /// Limits and timings of the realtime service.
    package var realtime = RealtimeConfiguration()
    /// Members of one group, owner included.
    package var maxGroupMembers = 1000
    /// Conversations one user may belong to.
    package var maxConversationsPerUser = 10_000
    /// The largest request body accepted, in bytes.
    package var maxBodySize = 64 * 1024
    /// How long a connection may go without sending a complete request head (idle keep-alive
    /// connections and slow headers alike) before it is closed.
    package var httpIdleTimeout: Duration = .seconds(30)
    /// How long a request body may take to arrive, from its head to its end; a slower one has its
    /// connection closed.
    package var bodyReadTimeout: Duration = .seconds(30)
    /// The wall clock; tests move it.
    package var now: @Sendable () -> Date = { Date() }

    package init() {}

    /// The public base URL, defaulted from the listen address.
    package var effectivePublicURL: String {
        if let publicURL, !publicURL.isEmpty { return publicURL }
        let host = host.contains(":") ? "[\(host)]" : host
        return "http://\(host):\(port)"
    }

    /// Uploaded images under the data folder, when the database is SQLite.
    package var mediaDirectory: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("media").path
    }

    /// The largest request body of `POST /api/v1/uploads`: an image at the limit, and room for a form around it.
    package var maxUploadBodySize: Int { images.maxBytes + 64 * 1024 }

    /// The SQLite file under the data folder.
    package var sqlitePath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("parley.sqlite").path
    }
}
