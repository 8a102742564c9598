import Crypto
import Foundation
import HummingbirdBcrypt
import NIOCore
package import ServiceLifecycle
import Synchronization

/// bcrypt password hashing on threads of its own, never on the event loops or the database's threads.
///
/// Passwords are first reduced to base64(SHA-256(password)) — 44 bytes — because bcrypt reads at most
/// 72 bytes and stops at a NUL; without this, two long passwords sharing their first 72 bytes would match.
///
/// Hashing is bounded twice, so that a flood of sign-ins cannot starve everything else: by default it
/// runs on one core fewer than the machine has (one, on two cores), leaving the event loops a core of
/// their own; and at most `maxWaiting` hashes wait for a thread (`BoundedThreadPool`).
package final class PasswordHasher: Service {
    /// The bcrypt cost (work factor): each step doubles the time of a hash.
    package let cost: Int
    private let pool: BoundedThreadPool
    private let decoyHash = Mutex<String?>(nil)

    package init(cost: Int, threads: Int = PasswordHasher.defaultThreads, maxWaiting: Int = 16) {
        self.cost = cost
        // A bcrypt of cost 12 takes about 0.2 s a core.
        self.pool = BoundedThreadPool(
            threads: threads,
            maxWaiting: maxWaiting,
            jobSeconds: 0.2 * pow(2, Double(cost - 12)),
            what: "passwords are being checked",
            metric: "password_hashing"
        )
    }

    /// One thread fewer than the machine has cores, and at least one.
    package static var defaultThreads: Int { max(1, System.coreCount - 1) }

    /// Hashes running or waiting now.
    package var queued: Int { pool.queued }

    /// A new salted hash of `password`.
    package func hash(_ password: String) async throws -> String {
        let cost = UInt8(cost)
        let input = Self.prehash(password)
        return try await pool.run { Bcrypt.hash(input, cost: cost) }
    }

    /// Whether `password` matches `hash`.
    package func verify(_ password: String, against hash: String) async throws -> Bool {
        let input = Self.prehash(password)
        return try await pool.run { Bcrypt.verify(input, hash: hash) }
    }

    /// Spends the time of a `verify` that fails, so an unknown login answers as slowly as a wrong password.
    package func verifyDecoy(_ password: String) async throws {
        let decoy: String
        if let cached = decoyHash.withLock({ $0 }) {
            decoy = cached
        } else {
            decoy = try await hash("decoy password that matches nothing")
            decoyHash.withLock { $0 = decoy }
        }
        _ = try await verify(password, against: decoy)
    }

    /// Waits for shutdown, then stops the threads.
    package func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }

    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
