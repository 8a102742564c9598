package import Foundation
import SQLKit

/// A token-signing key as stored in the database, shared by every node.
package struct SigningKeyRecord: Sendable, Equatable {
    /// The key id written into each token's header.
    package var kid: String
    /// The JWS algorithm, `EdDSA`.
    package var algorithm: String
    /// The private key, base64 of its raw representation.
    package var privateKey: String
    package var createdAt: Date

    package init(kid: String, algorithm: String, privateKey: String, createdAt: Date) {
        self.kid = kid
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.createdAt = createdAt
    }
}

extension Store {
    /// Every signing key, newest first; the newest signs, all of them verify.
    package func signingKeys() async throws -> [SigningKeyRecord] {
        try await database.read { sql in
            try await sql.raw("SELECT kid, algorithm, private_key, created_at FROM signing_keys ORDER BY created_at DESC, kid")
                .all().map { try SigningKeyRecord.Row(row: $0).record }
        }
    }

    /// Adds a signing key; being the newest, it signs from now on, on every node within a minute.
    package func addSigningKey(_ key: SigningKeyRecord) async throws {
        try await write { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO signing_keys (kid, algorithm, private_key, created_at)
                VALUES (\(bind: key.kid), \(bind: key.algorithm), \(bind: key.privateKey), \(bind: key.createdAt))
                """
            ).run()
        }
    }

    /// Deletes the keys a newer one replaced before `cutoff` — when every token they signed has
    /// long expired — but always keeps the oldest, from which refresh-token successors are derived.
    @discardableResult
    package func pruneSigningKeys(replacedBefore cutoff: Date) async throws -> Int {
        try await write { transaction in
            try await transaction.sql.raw(
                """
                DELETE FROM signing_keys
                WHERE kid <> (SELECT kid FROM signing_keys ORDER BY created_at, kid LIMIT 1)
                  AND EXISTS (SELECT 1 FROM signing_keys newer WHERE newer.created_at > signing_keys.created_at
                              AND newer.created_at < \(bind: cutoff))
                RETURNING kid
                """
            ).all().count
        }
    }

    /// Returns the signing keys, first storing one made by `makeKey` if there are none.
    ///
    /// Nodes that start together take turns on a lock, so exactly one key is made and all of them use it.
    package func ensureSigningKey(_ makeKey: @escaping @Sendable () throws -> SigningKeyRecord) async throws -> [SigningKeyRecord] {
        try await write { transaction in
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
    fileprivate struct Row {
        var kid: String
        var algorithm: String
        var privateKey: String
        var createdAt: Date

        init(row: any SQLRow) throws {
            kid = try row.decode(column: "kid", as: String.self)
            algorithm = try row.decode(column: "algorithm", as: String.self)
            privateKey = try row.decode(column: "private_key", as: String.self)
            createdAt = try row.decode(column: "created_at", as: Date.self)
        }

        var record: SigningKeyRecord { .init(kid: kid, algorithm: algorithm, privateKey: privateKey, createdAt: createdAt) }
    }
}
