import Foundation
import SQLKit

/// A token-signing key as stored in the database, shared by every node.
public struct SigningKeyRecord: Sendable, Equatable {
    /// The key id written into each token's header.
    public var kid: String
    /// The JWS algorithm, `EdDSA`.
    public var algorithm: String
    /// The private key, base64 of its raw representation.
    public var privateKey: String
    public var createdAt: Date

    public init(kid: String, algorithm: String, privateKey: String, createdAt: Date) {
        self.kid = kid
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.createdAt = createdAt
    }
}

extension Store {
    /// Every signing key, newest first; the newest signs, all of them verify.
    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await database.read { sql in
            try await sql.raw("SELECT kid, algorithm, private_key, created_at FROM signing_keys ORDER BY created_at DESC, kid")
                .all().map { try $0.model(SigningKeyRecord.Row.self).record }
        }
    }

    /// Returns the signing keys, first storing one made by `makeKey` if there are none.
    ///
    /// Nodes that start together take turns on a lock, so exactly one key is made and all of them use it.
    public func ensureSigningKey(_ makeKey: @escaping @Sendable () throws -> SigningKeyRecord) async throws -> [SigningKeyRecord] {
        try await database.write { transaction in
            try await transaction.lock("signing_keys")
            guard try await transaction.sql.raw("SELECT kid FROM signing_keys").first() == nil else { return }
            let key = try makeKey()
            try await transaction.sql.raw(
                """
                INSERT INTO signing_keys (kid, algorithm, private_key, created_at)
                VALUES (\(bind: key.kid), \(bind: key.algorithm), \(bind: key.privateKey), \(bind: key.createdAt))
                """
            ).run()
        }
        return try await signingKeys()
    }
}

extension SigningKeyRecord {
    fileprivate struct Row: Decodable {
        var kid: String
        var algorithm: String
        var privateKey: String
        var createdAt: Date
        var record: SigningKeyRecord { .init(kid: kid, algorithm: algorithm, privateKey: privateKey, createdAt: createdAt) }
    }
}
