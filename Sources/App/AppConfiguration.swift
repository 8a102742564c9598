package import API
import Auth
package import Realtime
package import Foundation
import Logging

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
    /// Outgoing mail; without it, mail is written to the log.
    package var smtpURL: String?
    /// A PEM file of certificates to trust for the SMTP server's TLS, besides the system's.
    package var smtpCAFile: String?
    /// The `From` of outgoing mail.
    package var mailFrom = "Parley <parley@localhost>"
    /// The base of links in mail; `http://HOST:PORT` when unset.
    package var publicURL: String?
    /// How long access tokens live; 15 minutes, shorter only in tests.
    package var accessTokenLifetime = AccessTokens.defaultLifetime
    /// The bcrypt cost of new password hashes.
    package var passwordCost = 12
    /// Budgets for logins and password resets.
    package var limits = RateLimits()
    /// Limits and timings of the realtime service.
    package var realtime = RealtimeConfiguration()
    /// Members of one group, owner included.
    package var maxGroupMembers = 1000
    /// The largest request body accepted, in bytes.
    package var maxBodySize = 64 * 1024
    /// The wall clock; tests move it.
    package var now: @Sendable () -> Date = { Date() }

    package init() {}

    /// The package base URL, defaulted from the listen address.
    package var effectivePublicURL: String {
        if let publicURL, !publicURL.isEmpty { return publicURL }
        let host = host.contains(":") ? "[\(host)]" : host
        return "http://\(host):\(port)"
    }

    /// The SQLite file under the data folder.
    package var sqlitePath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("parley.sqlite").path
    }
}
