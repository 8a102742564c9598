import Crypto
import Foundation
import Models

/// Opaque bearer secrets — refresh tokens and password-reset tokens: 256 random bits, handed out
/// once, stored only as a SHA-256 hash so a copy of the database cannot be replayed.
package enum SecretToken {
    /// A new token (`prefix` followed by 43 base64url characters) and the hash to store.
    package static func generate(prefix: String) -> (token: String, hash: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = prefix + Data(bytes).base64URLEncodedString()
        return (token, hash(token))
    }

    /// The stored form of a token: lower-case hex SHA-256.
    package static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
