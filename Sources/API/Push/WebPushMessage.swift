import Crypto
import Foundation
import Models

/// One Web Push request body and its headers, made the standard way: the payload encrypted for
/// the browser's key (RFC 8291, `aes128gcm` content coding of RFC 8188) and the request signed
/// with the server's VAPID key (RFC 8292), so that the push service can tell who sends it.
struct WebPushMessage {
    /// The encrypted body.
    let body: Data
    /// `Authorization: vapid t=…, k=…`.
    let authorization: String

    /// Encrypts `payload` for a subscription's `p256dh` key and `auth` secret (base64url, as the
    /// browser gives them) and signs a VAPID token for `endpoint`'s origin.
    init(payload: Data, p256dh: String, auth: String, endpoint: URL, vapidKey: P256.Signing.PrivateKey, contact: String, now: Date) throws {
        guard let browserKey = Data(base64URLEncoded: p256dh), let authSecret = Data(base64URLEncoded: auth) else { throw WebPushError.badSubscriptionKeys }
        body = try Self.encrypt(payload, browserKey: browserKey, authSecret: authSecret)
        authorization = try Self.vapid(audience: endpoint, key: vapidKey, contact: contact, now: now)
    }

    /// RFC 8291 §3–4: an ECDH secret with a one-time key, mixed with the auth secret, gives the
    /// content key and nonce; the body is one record: salt, record size, the one-time public key,
    /// then the ciphertext of the payload and its `0x02` delimiter.
    static func encrypt(_ payload: Data, browserKey: Data, authSecret: Data, salt: Data? = nil, serverKey: P256.KeyAgreement.PrivateKey? = nil) throws -> Data {
        let recordSize = 4096
        guard payload.count + 17 <= recordSize else { throw WebPushError.payloadTooLarge }
        let browser = try P256.KeyAgreement.PublicKey(x963Representation: browserKey)
        let server = serverKey ?? P256.KeyAgreement.PrivateKey()
        let serverPublic = server.publicKey.x963Representation
        let shared = try server.sharedSecretFromKeyAgreement(with: browser).withUnsafeBytes { Data($0) }

        let keyPRK = HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: shared), salt: authSecret)
        let keyInfo = Data("WebPush: info".utf8) + [0] + browserKey + serverPublic
        let inputKey = HKDF<SHA256>.expand(pseudoRandomKey: keyPRK, info: keyInfo, outputByteCount: 32)

        let salt = salt ?? Data((0..<16).map { _ in UInt8.random(in: 0...255) })
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: inputKey, salt: salt)
        let contentKey = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)

        let sealed = try AES.GCM.seal(payload + [2], using: contentKey, nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }))
        var body = salt
        body += withUnsafeBytes(of: UInt32(recordSize).bigEndian) { Data($0) }
        body.append(UInt8(serverPublic.count))
        body += serverPublic
        body += sealed.ciphertext + sealed.tag
        return body
    }

    /// RFC 8292: an ES256 JWT for the push service's origin, valid 12 hours, with the server's
    /// public key beside it.
    static func vapid(audience endpoint: URL, key: P256.Signing.PrivateKey, contact: String, now: Date) throws -> String {
        guard let scheme = endpoint.scheme, let host = endpoint.host else { throw WebPushError.badEndpoint }
        let origin = "\(scheme)://\(host)" + (endpoint.port.map { ":\($0)" } ?? "")
        let header = Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8).base64URLEncodedString()
        let claims = try JSONSerialization.data(
            withJSONObject: ["aud": origin, "exp": Int(now.timeIntervalSince1970) + 12 * 3600, "sub": contact],
            options: [.sortedKeys, .withoutEscapingSlashes]
        ).base64URLEncodedString()
        let signingInput = "\(header).\(claims)"
        let signature = try key.signature(for: Data(signingInput.utf8)).rawRepresentation.base64URLEncodedString()
        return "vapid t=\(signingInput).\(signature), k=\(key.publicKey.x963Representation.base64URLEncodedString())"
    }
}

/// Why a push cannot be made.
enum WebPushError: Error {
    case badSubscriptionKeys
    case badEndpoint
    case payloadTooLarge
}
