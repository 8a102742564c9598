import Crypto
import Foundation
import ParleyClient
import JWTKit
import Models
import Store
import TestSupport
import Testing
import HTTPTypes
import App
import HummingbirdTesting
import NIOCore

@Suite("Access tokens", .timeLimit(.minutes(1)))
struct TokenTests {
    /// What a token carries, read without verification.
    struct Claims: Codable {
        var sub: String
        var sid: String
        var iat: Int
        var exp: Int
        var iss: String
        var aud: String
    }

    static func parts(_ token: String) throws -> (header: [String: String], claims: Claims) {
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        let header = try JSONDecoder().decode([String: String].self, from: try #require(Data(base64URLEncoded: parts[0])))
        let claims = try JSONDecoder().decode(Claims.self, from: try #require(Data(base64URLEncoded: parts[1])))
        return (header, claims)
    }

    /// A JWS of the given header and claims, signed by `sign` (or with an empty signature).
    static func token(header: [String: String], claims: Claims, sign: ((Data) throws -> Data)? = nil) throws -> String {
        let encoder = JSONEncoder()
        let input = try encoder.encode(header).base64URLEncodedString() + "." + encoder.encode(claims).base64URLEncodedString()
        let signature = try sign?(Data(input.utf8)) ?? Data()
        return input + "." + signature.base64URLEncodedString()
    }

    @Test("A token names its key, user and session, is EdDSA, and lives 15 minutes", arguments: TestBackend.all)
    func tokensCarryTheirClaims(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("alice")
            let (header, claims) = try Self.parts(session.accessToken)
            #expect(header["alg"] == "EdDSA")
            #expect(header["kid"]?.isEmpty == false)
            #expect(claims.sub == session.user.id)
            #expect(claims.sid == session.sessionId)
            #expect(claims.exp - claims.iat == 900)
            #expect(claims.iss == "parley")
            #expect(claims.aud == "parley")
        }
    }

    @Test("The published JWKS verifies the server's tokens", arguments: TestBackend.all)
    func jwksVerifiesTokens(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("bob")
            let response = try await app.raw(.get, "/.well-known/jwks.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/jwk-set+json")
            let keys = try await JWTKeyCollection().add(jwksJSON: String(buffer: response.body))
            struct Payload: JWTPayload {
                var sub: SubjectClaim
                func verify(using algorithm: some JWTAlgorithm) throws {}
            }
            let payload = try await keys.verify(session.accessToken, as: Payload.self)
            #expect(payload.sub.value == session.user.id)
        }
    }

    @Test("Forged, tampered, foreign, expired or misaddressed tokens are refused", arguments: TestBackend.all)
    func badTokensAreRefused(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("carol")
            let (header, claims) = try Self.parts(session.accessToken)
            let kid = try #require(header["kid"])
            let key = try await app.configuration.withStore { store in
                let record = try #require(try await store.signingKeys().first { $0.kid == kid })
                return try Curve25519.Signing.PrivateKey(rawRepresentation: try #require(Data(base64Encoded: record.privateKey)))
            }
            let signWithServerKey: (Data) throws -> Data = { try key.signature(for: $0) }
            let now = Int(Date().timeIntervalSince1970)

            // A token forged with the server's own key is accepted: the forgeries below differ only where named.
            #expect(try await app.api(token: Self.token(header: header, claims: claims, sign: signWithServerKey)).getMe().ok.body.json.username == "carol")
            // So is one from a node whose clock runs up to a minute ahead (the leeway for `iat`).
            var ahead = claims
            ahead.iat = now + 50
            #expect(try await app.api(token: Self.token(header: header, claims: ahead, sign: signWithServerKey)).getMe().ok.body.json.username == "carol")

            var forgeries: [String: String] = [:]
            forgeries["alg none"] = try Self.token(header: ["alg": "none", "kid": kid, "typ": "JWT"], claims: claims)
            forgeries["HS256 keyed with the public key"] = try Self.token(header: ["alg": "HS256", "kid": kid, "typ": "JWT"], claims: claims) { input in
                Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key.publicKey.rawRepresentation)))
            }
            forgeries["tampered signature"] = String(session.accessToken.dropLast(2)) + (session.accessToken.hasSuffix("AA") ? "BA" : "AA")
            var otherUser = claims
            otherUser.sub = UUID().uuidString.lowercased()
            forgeries["tampered payload"] = try {
                let original = session.accessToken.split(separator: ".").map(String.init)
                let payload = try JSONEncoder().encode(otherUser).base64URLEncodedString()
                return original[0] + "." + payload + "." + original[2]
            }()
            forgeries["foreign key"] = try Self.token(header: header, claims: claims) { try Curve25519.Signing.PrivateKey().signature(for: $0) }
            forgeries["unknown kid"] = try Self.token(header: ["alg": "EdDSA", "kid": "nope", "typ": "JWT"], claims: claims, sign: signWithServerKey)
            var expired = claims
            expired.iat = now - 1000
            expired.exp = now - 100
            forgeries["expired"] = try Self.token(header: header, claims: expired, sign: signWithServerKey)
            var wrongAudience = claims
            wrongAudience.aud = "someone-else"
            forgeries["wrong audience"] = try Self.token(header: header, claims: wrongAudience, sign: signWithServerKey)
            var wrongIssuer = claims
            wrongIssuer.iss = "mallory"
            forgeries["wrong issuer"] = try Self.token(header: header, claims: wrongIssuer, sign: signWithServerKey)
            var wrongSession = claims
            wrongSession.sid = UUID().uuidString.lowercased()
            forgeries["unknown session"] = try Self.token(header: header, claims: wrongSession, sign: signWithServerKey)
            forgeries["not a JWT"] = "hello"
            var typed = header
            typed["typ"] = "at+jwt"
            forgeries["another typ"] = try Self.token(header: typed, claims: claims, sign: signWithServerKey)
            typed["typ"] = nil
            forgeries["no typ"] = try Self.token(header: typed, claims: claims, sign: signWithServerKey)
            var future = claims
            future.iat = now + 3600
            future.exp = now + 4500
            forgeries["issued an hour from now"] = try Self.token(header: header, claims: future, sign: signWithServerKey)

            for (name, token) in forgeries {
                let response = try await app.api(token: token).getMe()
                guard case .unauthorized(let refusal) = response else {
                    Issue.record("\(name) was not refused: \(response)")
                    continue
                }
                #expect(try refusal.body.applicationProblemJson.code == "unauthorized", "\(name)")
            }
        }
    }

    @Test("parley keys rotate: new tokens are signed with the new key; tokens of the old one still verify", arguments: TestBackend.all)
    func keyRotation(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.signingKeyRefresh = 0.2 }) { app in
            let before = try await app.register("kim")
            let oldKID = try #require(try Self.parts(before.accessToken).header["kid"])
            let newKID = try await rotateSigningKey(app.configuration, logger: TestBackend.logger)
            #expect(newKID != oldKID)
            try await Task.sleep(for: .milliseconds(300))
            let after = try await app.api.login(body: .json(.init(login: "kim", password: "correct horse battery"))).ok.body.json
            #expect(try Self.parts(after.accessToken).header["kid"] == newKID)
            _ = try await app.api(token: before.accessToken).getMe().ok
            _ = try await app.api(token: after.accessToken).getMe().ok
            let jwks = String(buffer: try await app.raw(.get, "/.well-known/jwks.json").body)
            #expect(jwks.contains(oldKID) && jwks.contains(newKID))
        }
    }

    @Test("A token stops working when its 15 minutes are over", arguments: TestBackend.all)
    func tokensExpire(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withApp(backend, configure: { $0.now = { clock.now } }) { app in
            let session = try await app.register("dave")
            clock.advance(by: 899)
            _ = try await app.api(token: session.accessToken).getMe().ok
            clock.advance(by: 1)
            _ = try await app.api(token: session.accessToken).getMe().unauthorized
            // Its refresh token still yields a fresh one.
            let pair = try await app.api.refreshTokens(body: .json(.init(refreshToken: session.refreshToken))).ok.body.json
            _ = try await app.api(token: pair.accessToken).getMe().ok
        }
    }

    @Test("Every node verifies every node's tokens, and refuses a revoked session's within 5 seconds", arguments: TestBackend.all)
    func revocationReachesEveryNode(backend: TestBackend) async throws {
        try await withTwoNodes(backend) { first, second in
            let session = try await first.register("erin")
            // Node two has never seen this session: it verifies the token with the shared key and caches the session.
            _ = try await second.api(token: session.accessToken).getMe().ok
            let jwks = try await [first.raw(.get, "/.well-known/jwks.json"), second.raw(.get, "/.well-known/jwks.json")]
            #expect(String(buffer: jwks[0].body) == String(buffer: jwks[1].body))

            _ = try await first.api(token: session.accessToken).logout().noContent
            let revokedAt = ContinuousClock.now
            _ = try await first.api(token: session.accessToken).getMe().unauthorized
            try await eventually(timeout: .seconds(5), "node two to refuse the revoked session") { () -> Bool? in
                if case .unauthorized = try await second.api(token: session.accessToken).getMe() { return true }
                return nil
            }
            #expect(ContinuousClock.now - revokedAt < .seconds(5))
        }
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
