import Crypto
package import Foundation
import JWTKit
import Models
package import Logging
package import Store
import Synchronization

/// Mints and checks access tokens: EdDSA (Ed25519) JWTs with `kid`, `sub`, `sid`, `iat`, `exp`, `iss`, `aud`.
///
/// The signing key lives in the database, made by whichever node starts first, so every node that
/// shares the database verifies every other node's tokens with no configuration. A token naming a
/// key this node has not seen makes it reload the keys (at most once every 10 seconds).
package final class AccessTokens: Sendable {
    /// How long an access token lives unless configured otherwise.
    package static let defaultLifetime: TimeInterval = 15 * 60
    /// The `iss` of every token.
    package static let issuer = "parley"
    /// The `aud` every token must name.
    package static let audience = "parley"

    /// How long the tokens this instance issues live.
    package let lifetime: TimeInterval
    private let store: Store
    private let logger: Logger
    private let collection = JWTKeyCollection()
    /// Serializes with sorted keys, so that the same claims always make the same token (Ed25519 is
    /// deterministic too): a retried refresh answers with the very token the first one did.
    private static let serializer = DefaultJWTSerializer(jsonEncoder: {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }())
    private let state = Mutex(KeyState())
    /// Tokens whose signature and claims were checked, with what they prove.
    private let verified = Mutex<[String: Identity]>([:])

    private struct KeyState {
        var signingKID: String?
        var publicKeys: [String: Data] = [:]
        var lastReload = Date.distantPast
        /// Derives refresh-token successors; from the oldest key, which rotation leaves in place.
        var successorKey: SymmetricKey?
    }

    /// How long a node signs with the keys it has before it looks for a newer one (`parley keys rotate`).
    private let keyRefreshInterval: TimeInterval
    /// How far in the future a token's `iat` may be, for clocks that differ a little between nodes.
    static let clockLeeway: TimeInterval = 60

    package init(store: Store, lifetime: TimeInterval = AccessTokens.defaultLifetime, keyRefreshInterval: TimeInterval = 60, logger: Logger) {
        self.store = store
        self.lifetime = lifetime
        self.keyRefreshInterval = keyRefreshInterval
        self.logger = logger
    }

    /// Loads the keys, creating the first one if the database has none. Call once before serving.
    package func load() async throws {
        try await install(try await store.ensureSigningKey(Self.makeKey))
    }

    /// A new signing key.
    package static func makeKey() -> SigningKeyRecord {
        let key = Curve25519.Signing.PrivateKey()
        let kid = Data(SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8)).base64URLEncodedString()
        return SigningKeyRecord(kid: kid, algorithm: "EdDSA", privateKey: key.rawRepresentation.base64EncodedString(), createdAt: Date())
    }

    /// A signed access token for `sessionID` of `userID`, valid for `lifetime` from `now` (whole seconds).
    ///
    /// Ed25519 signatures are deterministic: the same claims at the same second give the same token.
    package func issue(userID: UUID, sessionID: UUID, now: Date) async throws -> String {
        await reloadIfDue(after: keyRefreshInterval)
        guard let kid = state.withLock({ $0.signingKID }) else { throw TokenError.noSigningKey }
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: userID.lowercased),
            sid: sessionID.lowercased,
            iat: IssuedAtClaim(value: issuedAt),
            exp: ExpirationClaim(value: issuedAt.addingTimeInterval(lifetime)),
            iss: IssuerClaim(value: Self.issuer),
            aud: AudienceClaim(value: [Self.audience])
        )
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// The identity a token proves, or why it proves none.
    ///
    /// Refused: anything but a three-part JWS with `typ: JWT`, `alg: EdDSA` and a known `kid`, a bad
    /// signature, a wrong `iss` or `aud`, an `exp` at or before `now`, an `iat` more than a minute
    /// ahead of `now`, malformed `sub`/`sid`.
    ///
    /// A token that verified is remembered until it expires (at most `verifiedCapacity` of them, and
    /// forgotten whenever the keys are reloaded), so a client's next requests skip the signature check.
    package func verify(_ token: String, now: Date) async throws(TokenError) -> Identity {
        if let identity = verified.withLock({ $0[token] }) {
            guard identity.expiresAt > now else { throw .expired }
            return identity
        }
        let identity = try await verifySignedClaims(token, now: now)
        verified.withLock { verified in
            if verified.count >= Self.verifiedCapacity {
                verified = verified.filter { $0.value.expiresAt > now }
                if verified.count >= Self.verifiedCapacity / 2 { verified.removeAll() }
            }
            verified[token] = identity
        }
        return identity
    }

    /// Verified tokens remembered at most.
    static let verifiedCapacity = 20_000

    private func verifySignedClaims(_ token: String, now: Date) async throws(TokenError) -> Identity {
        let header = try Self.header(of: token)
        guard header.typ == "JWT" else { throw .malformed }
        guard header.alg == "EdDSA" else { throw .unsupportedAlgorithm }
        guard let kid = header.kid else { throw .unknownKey }
        if state.withLock({ $0.publicKeys[kid] == nil }) {
            await reloadIfDue(after: 10)
            guard state.withLock({ $0.publicKeys[kid] != nil }) else { throw .unknownKey }
        }
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch let error as TokenError {
            throw error
        } catch {
            throw .invalid
        }
        guard claims.exp.value > now else { throw .expired }
        guard claims.iat.value <= now.addingTimeInterval(Self.clockLeeway), claims.iat.value < claims.exp.value else { throw .invalid }
        guard let userID = UUID(text: claims.sub.value), let sessionID = UUID(text: claims.sid) else {
            throw .invalid
        }
        return Identity(userID: userID, sessionID: sessionID, expiresAt: claims.exp.value)
    }

    /// The public keys as a JWK Set (RFC 7517), the body of `/.well-known/jwks.json`.
    package func jwks() -> JWKSDocument {
        let keys = state.withLock { $0.publicKeys }
        return JWKSDocument(
            keys: keys.sorted { $0.key < $1.key }.map { kid, raw in
                .init(kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig", kid: kid, x: raw.base64URLEncodedString())
            }
        )
    }

    // MARK: - Keys

    private func install(_ records: [SigningKeyRecord]) async throws {
        var publicKeys: [String: Data] = [:]
        for record in records where record.algorithm == "EdDSA" {
            guard let raw = Data(base64Encoded: record.privateKey) else { continue }
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            await collection.add(eddsa: EdDSA.PrivateKey(backing: key), kid: JWKIdentifier(string: record.kid), serializer: Self.serializer)
            publicKeys[record.kid] = key.publicKey.rawRepresentation
        }
        let oldest = records.last { $0.algorithm == "EdDSA" }.flatMap { Data(base64Encoded: $0.privateKey) }
        // Tokens are checked again against the keys as they are now.
        verified.withLock { $0.removeAll() }
        state.withLock { state in
            state.signingKID = records.first { $0.algorithm == "EdDSA" }?.kid
            state.publicKeys = publicKeys
            state.lastReload = Date()
            state.successorKey = oldest.map {
                HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: $0), info: Data("parley refresh-token successors".utf8), outputByteCount: 32)
            }
        }
    }

    /// The refresh token that succeeds `token` when it is spent: derived from it, with a key only the
    /// nodes share, so that a client retrying a refresh whose answer it lost gets the same successor.
    package func successor(ofRefreshToken token: String) throws -> String {
        guard let key = state.withLock({ $0.successorKey }) else { throw TokenError.noSigningKey }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)
        return "rt_" + Data(mac).base64URLEncodedString()
    }

    private func reloadIfDue(after interval: TimeInterval) async {
        let due = state.withLock { state in
            guard Date().timeIntervalSince(state.lastReload) > interval else { return false }
            state.lastReload = Date()
            return true
        }
        guard due else { return }
        do {
            try await install(try await store.signingKeys())
        } catch {
            logger.error("Could not reload signing keys", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }

    private struct Header: Decodable {
        var typ: String?
        var alg: String
        var kid: String?
    }

    private static func header(of token: String) throws(TokenError) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else { throw .malformed }
        return header
    }
}

/// Why a bearer token was refused. Clients only ever learn "unauthorized"; the reason is for logs and tests.
package enum TokenError: Error, Equatable, Sendable {
    case malformed
    case unsupportedAlgorithm
    case unknownKey
    case invalid
    case expired
    case noSigningKey
}

/// The claims of a Parley access token.
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var sid: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim
    var aud: AudienceClaim

    /// Issuer and audience; expiry is checked by `AccessTokens.verify` against its own clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        guard iss.value == AccessTokens.issuer else { throw TokenError.invalid }
        guard aud.value.contains(AccessTokens.audience) else { throw TokenError.invalid }
    }
}

/// A JWK Set of Ed25519 public keys.
package struct JWKSDocument: Codable, Sendable, Equatable {
    /// One public key.
    package struct Key: Codable, Sendable, Equatable {
        package var kty: String
        package var crv: String
        package var alg: String
        package var use: String
        package var kid: String
        package var x: String
    }

    package var keys: [Key]
}
