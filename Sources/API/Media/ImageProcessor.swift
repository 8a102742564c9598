import CVips
package import Foundation
import Models
package import Store
import ServiceLifecycle

/// What uploaded images may be, at most.
package struct ImageLimits: Sendable {
    /// Bytes of one upload.
    package var maxBytes = 10 * 1024 * 1024
    /// Pixels of one image (all its frames together), read from its header before anything is decoded.
    package var maxPixels = 50_000_000

    package init() {}
}

/// Validates and processes uploaded images with libvips, on threads of its own.
///
/// The format is told by the file's first bytes and loaded with that format's own loader only
/// (libvips's untrusted loaders are blocked); the size is read from the header and checked before a
/// single pixel is decoded, so a small file that claims 100,000 × 100,000 pixels costs nothing;
/// then every pixel is decoded (a truncated or corrupt file fails there, as a 422), the image is
/// turned upright and saved again without metadata, and the thumbnail and avatar sizes are made
/// from that clean copy.
package final class ImageProcessor: Service {
    private let pool: BoundedThreadPool
    package let limits: ImageLimits

    private static let started: Bool = parley_vips_start() == 0

    /// - Parameters:
    ///   - threads: images processed at once; by default one fewer than the cores, as for passwords.
    ///   - maxWaiting: images that may wait for a thread; more are refused with 503 and `Retry-After`.
    package init(limits: ImageLimits = ImageLimits(), threads: Int = PasswordHasher.defaultThreads, maxWaiting: Int = 16) {
        self.limits = limits
        // A 12-megapixel photo takes about half a second.
        self.pool = BoundedThreadPool(threads: threads, maxWaiting: maxWaiting, jobSeconds: 0.5, what: "images are being processed", metric: "image_processing")
    }

    /// Processes `data`, or says why it cannot be an image here (415, 413, 422) or now (503).
    package func process(_ data: Data) async throws -> NewUpload {
        guard data.count <= limits.maxBytes else { throw Problem.payloadTooLarge(limit: limits.maxBytes) }
        guard let format = ImageFormat(sniffing: data) else {
            throw Problem(
                code: .unsupportedMediaType,
                title: "Unsupported media type",
                detail: "Send a JPEG, PNG, GIF or WebP image; the file's own bytes decide which it is."
            )
        }
        let maxPixels = limits.maxPixels
        return try await pool.run { try Self.process(data, format: format, maxPixels: maxPixels) }
    }

    /// Jobs running or waiting now.
    package var queued: Int { pool.queued }

    /// Waits for shutdown, then stops the threads.
    package func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }

    private static func process(_ data: Data, format: ImageFormat, maxPixels: Int) throws(Problem) -> NewUpload {
        guard started else { throw Problem.internalError }
        defer { vips_error_clear() }
        var width: Int32 = 0
        var height: Int32 = 0
        var pages: Int32 = 0
        let header = data.withUnsafeBytes { parley_vips_header($0.baseAddress, $0.count, format.rawValue, &width, &height, &pages) }
        guard header == 0, width > 0, height > 0 else { throw .unreadableImage }
        let frames = max(1, Int(pages))
        guard Int(width) * Int(height) * frames <= maxPixels else {
            throw Problem(
                code: .imageTooLarge,
                title: "Image too large",
                detail: "At most \(maxPixels) pixels, all frames together; this one has \(Int(width) * Int(height) * frames)."
            )
        }
        var original = try run { out, length in
            data.withUnsafeBytes { parley_vips_clean($0.baseAddress, $0.count, format.rawValue, out, length) }
        }
        if format == .webp { original = WebPMetadata.stripped(original) }
        // The clean copy's own size: turned upright, width and height may have swapped.
        var cleanWidth: Int32 = 0
        var cleanHeight: Int32 = 0
        _ = original.withUnsafeBytes { parley_vips_header($0.baseAddress, $0.count, format.rawValue, &cleanWidth, &cleanHeight, &pages) }
        func resized(_ width: Int32, _ height: Int32, crop: Bool) throws(Problem) -> Data {
            WebPMetadata.stripped(try run { out, length in
                original.withUnsafeBytes { parley_vips_thumbnail($0.baseAddress, $0.count, width, height, crop ? 1 : 0, out, length) }
            })
        }
        return NewUpload(
            contentType: format.contentType,
            width: Int(cleanWidth),
            height: Int(cleanHeight),
            animated: frames > 1,
            variants: [
                .original: original,
                .thumbnail: try resized(320, 320, crop: false),
                .avatar: try resized(256, 256, crop: true),
                .avatarSmall: try resized(64, 64, crop: true),
            ]
        )
    }

    /// Runs a libvips call that writes a new buffer, and takes the buffer over.
    private static func run(_ call: (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>) -> Int32) throws(Problem) -> Data {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard call(&buffer, &length) == 0, let buffer else { throw .unreadableImage }
        defer { g_free(buffer) }
        return Data(bytes: buffer, count: length)
    }
}

extension Problem {
    /// A file with an image's signature that does not decode: truncated, corrupt, or lying.
    static let unreadableImage = Problem(
        code: .unreadableImage,
        title: "Unreadable image",
        detail: "The file is not a whole, valid image of its format."
    )
}
