package import Foundation

/// Removes the metadata chunks (EXIF, XMP, ICC profile) from a WebP file. libvips 8.14 writes an
/// EXIF chunk into every WebP it saves, `strip` or not, so Parley takes it out of the container
/// itself: the image data chunks are kept byte for byte.
package enum WebPMetadata {
    private static let dropped: Set<String> = ["EXIF", "XMP ", "ICCP"]
    /// The VP8X flags that announce those chunks: ICC profile, EXIF, XMP.
    private static let metadataFlags: UInt8 = 0x20 | 0x08 | 0x04

    /// `webp` without its metadata chunks; unchanged when it is not a well-formed WebP container.
    package static func stripped(_ webp: Data) -> Data {
        let bytes = [UInt8](webp)
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WEBP".utf8) else { return webp }
        var body: [UInt8] = Array("WEBP".utf8)
        var offset = 12
        while offset + 8 <= bytes.count {
            let fourCC = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(littleEndian32(bytes, at: offset + 4))
            let end = offset + 8 + size + (size & 1)
            guard end <= bytes.count || (end == bytes.count + 1 && size & 1 == 1) else { return webp }
            if !dropped.contains(fourCC) {
                var chunk = Array(bytes[offset..<min(end, bytes.count)])
                if fourCC == "VP8X", chunk.count > 8 { chunk[8] &= ~metadataFlags }
                body += chunk
            }
            offset = end
        }
        let size = UInt32(body.count)
        return Data(Array("RIFF".utf8) + withUnsafeBytes(of: size.littleEndian, Array.init) + body)
    }

    private static func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
