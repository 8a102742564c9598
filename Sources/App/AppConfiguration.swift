import API
import Auth
import Realtime
import Foundation
import Logging

/// Everything that varies between deployments of Parley, with defaults that work on a laptop.
public struct AppConfiguration: Sendable {
    /// Which halves of Parley this process serves.
    public enum Role: String, Sendable {
        /// REST, realtime and the web page: `parley serve`.
        case all
        /// REST only: `parley api`.
        case api
        /// The realtime WebSocket service only: `parley realtime`.
        case realtime

        var servesREST: Bool { self != .realtime }
        var servesRealtime: Bool { self != .api }
    }

    public var role: Role = .all
    public var host = "127.0.0.1"
    public var port = 8080
    /// Holds the SQLite file when no database URL is given.
    public var dataDirectory = "./parley-data"
    /// PostgreSQL instead of SQLite.
    public var databaseURL: String?
    /// Outgoing mail; without it, mail is written to the log.
    public var smtpURL: String?
    /// A PEM file of certificates to trust for the SMTP server's TLS, besides the system's.
    public var smtpCAFile: String?
    /// The `From` of outgoing mail.
    public var mailFrom = "Parley <parley@localhost>"
    /// The base of links in mail; `http://HOST:PORT` when unset.
    public var publicURL: String?
    /// How long access tokens live; 15 minutes, shorter only in tests.
    public var accessTokenLifetime = AccessTokens.defaultLifetime
    /// The bcrypt cost of new password hashes.
    public var passwordCost = 12
    /// Budgets for logins and password resets.
    public var limits = RateLimits()
    /// Limits and timings of the realtime service.
    public var realtime = RealtimeConfiguration()
    /// Members of one group, owner included.
    public var maxGroupMembers = 1000
    /// The largest request body accepted, in bytes.
    public var maxBodySize = 64 * 1024
    /// The wall clock; tests move it.
    public var now: @Sendable () -> Date = { Date() }

    public init() {}

    /// The public base URL, defaulted from the listen address.
    public var effectivePublicURL: String {
        if let publicURL, !publicURL.isEmpty { return publicURL }
        let host = host.contains(":") ? "[\(host)]" : host
        return "http://\(host):\(port)"
    }

    /// The SQLite file under the data folder.
    public var sqlitePath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("parley.sqlite").path
    }
}
