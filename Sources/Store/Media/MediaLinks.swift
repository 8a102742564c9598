import Crypto
import Models
package import Foundation
import Synchronization

/// The sizes an upload is served in.
package enum MediaVariant: String, Sendable, CaseIterable {
    /// The image as uploaded, cleaned: upright, without metadata, animation kept.
    case original
    /// A still that fits 320 × 320.
    case thumbnail
    /// 256 × 256, centre-cropped.
    case avatar
    /// 64 × 64, centre-cropped.
    case avatarSmall = "avatar_small"

    /// The `uploads` column that holds this size's blob.
    var hashColumn: String {
        switch self {
        case .original: "original_hash"
        case .thumbnail: "thumbnail_hash"
        case .avatar: "avatar_hash"
        case .avatarSmall: "avatar_small_hash"
        }
    }
}

/// Signs the URLs of uploaded images, and checks them.
///
/// Browsers load images with `<img src>`, which cannot carry a bearer token, so every media URL the
/// API hands out carries its own proof: `exp` (when it stops working) and `sig`, an HMAC-SHA256 over
/// the upload, the size, `exp` and — for a message's image shown to one member — `viewer`, whose
/// membership is checked again when the image is fetched. The key is in the database, made by the
/// first node to start, so every node verifies every node's links.
package final class MediaLinks: Sendable {
    /// How long links in answers to one user live: they end at a day boundary, 24 to 48 hours away,
    /// so that the same image has the same URL all day long and browsers cache it.
    static let answerLifetime: TimeInterval = 24 * 3600
    /// How long links inside events live: events are shared by every member and kept in the log, so
    /// theirs are bound to nobody and short; a client that needs one later reads the message again.
    static let eventLifetime: TimeInterval = 3600

    /// Who a link is for.
    package enum Audience: Sendable, Equatable {
        /// One user, in an answer to them: bound to them, for a day or two.
        case viewer(UUID)
        /// Any signed-in user (avatars, group icons), in an answer: for a day or two.
        case anyone
        /// Whoever an event reaches: for an hour.
        case event
    }

    private let key = Mutex<SymmetricKey?>(nil)
    private let now: @Sendable () -> Date

    package init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Installs the key (base64 of 32 random bytes).
    package func install(_ secret: String) {
        guard let data = Data(base64Encoded: secret) else { return }
        key.withLock { $0 = SymmetricKey(data: data) }
    }

    /// A new key, for the database.
    package static func makeSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// The path and query of `upload` in `variant`, for `audience`.
    package func url(_ upload: UUID, _ variant: MediaVariant, for audience: Audience) -> String? {
        let now = now().timeIntervalSince1970
        let expires: Int64
        let viewer: UUID?
        switch audience {
        case .event:
            expires = Int64((now + Self.eventLifetime).rounded(.up))
            viewer = nil
        case .anyone, .viewer:
            expires = Int64(((now / Self.answerLifetime).rounded(.down) + 2) * Self.answerLifetime)
            if case .viewer(let id) = audience { viewer = id } else { viewer = nil }
        }
        guard let signature = signature(upload, variant, expires: expires, viewer: viewer) else { return nil }
        var query = "exp=\(expires)&sig=\(signature)"
        if variant != .original { query = "variant=\(variant.rawValue)&" + query }
        if let viewer { query += "&viewer=\(viewer.lowercased)" }
        return "/api/v1/media/\(upload.lowercased)?\(query)"
    }

    /// Whether a link's signature is this server's and it has not expired.
    package func verify(_ upload: UUID, _ variant: MediaVariant, expires: Int64, viewer: UUID?, signature: String) -> Bool {
        valid(signature, expires: expires, expected: self.signature(upload, variant, expires: expires, viewer: viewer))
    }

    /// The path and query of a data export's download, working until `expires` (seconds since 1970).
    package func exportURL(_ export: UUID, expires: Int64) -> String? {
        guard let signature = exportSignature(export, expires: expires) else { return nil }
        return "/api/v1/exports/\(export.lowercased)?exp=\(expires)&sig=\(signature)"
    }

    /// Whether a download link of a data export is this server's and has not expired.
    package func verifyExport(_ export: UUID, expires: Int64, signature: String) -> Bool {
        valid(signature, expires: expires, expected: exportSignature(export, expires: expires))
    }

    private func valid(_ signature: String, expires: Int64, expected: String?) -> Bool {
        guard Double(expires) > now().timeIntervalSince1970, let expected else { return false }
        // Constant-time comparison.
        let a = Array(expected.utf8)
        let b = Array(signature.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The two avatar sizes share a signature: a client turns `variant=avatar` into
    /// `variant=avatar_small` for the 64 × 64 one, with no second link in every profile.
    private func signature(_ upload: UUID, _ variant: MediaVariant, expires: Int64, viewer: UUID?) -> String? {
        let signed = variant == .avatarSmall ? MediaVariant.avatar : variant
        return mac("\(upload.lowercased)|\(signed.rawValue)|\(expires)|\(viewer?.lowercased ?? "")")
    }

    /// (Its message starts with `export|`, where an image's starts with a uuid: neither signs the other.)
    private func exportSignature(_ export: UUID, expires: Int64) -> String? {
        mac("export|\(export.lowercased)|\(expires)")
    }

    private func mac(_ message: String) -> String? {
        guard let key = key.withLock({ $0 }) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(mac.prefix(16)).base64URLEncodedString()
    }
}
