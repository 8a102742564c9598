@testable import API
import Foundation
import Models
import Store
import Synchronization
import Testing

@Suite("Media: formats, ranges, WebP metadata, signed links")
struct MediaUnitTests {
    @Test("Formats are told by their signatures, not by anything the client says")
    func sniffing() throws {
        #expect(ImageFormat(sniffing: Data([0xFF, 0xD8, 0xFF, 0xE0])) == .jpeg)
        #expect(ImageFormat(sniffing: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0])) == .png)
        #expect(ImageFormat(sniffing: Data("GIF89a...".utf8)) == .gif)
        #expect(ImageFormat(sniffing: Data("GIF87a...".utf8)) == .gif)
        #expect(ImageFormat(sniffing: Data("RIFF\0\0\0\0WEBPVP8 ".utf8)) == .webp)
        #expect(ImageFormat(sniffing: Data("RIFF\0\0\0\0WAVEfmt ".utf8)) == nil, "another RIFF file")
        #expect(ImageFormat(sniffing: Data("GIF8".utf8)) == nil, "a cut signature")
        #expect(ImageFormat(sniffing: Data("<svg>".utf8)) == nil)
        #expect(ImageFormat(sniffing: Data()) == nil)
    }

    @Test("Range headers: one range served, the rest ignored, one outside refused with the length")
    func ranges() throws {
        #expect(try ByteRange.requested(nil, length: 100) == nil)
        #expect(try ByteRange.requested("bytes=0-9", length: 100) == ByteRange(first: 0, last: 9))
        #expect(try ByteRange.requested("bytes=90-", length: 100) == ByteRange(first: 90, last: 99))
        #expect(try ByteRange.requested("bytes=-10", length: 100) == ByteRange(first: 90, last: 99))
        #expect(try ByteRange.requested("bytes=-1000", length: 100) == ByteRange(first: 0, last: 99))
        #expect(try ByteRange.requested("bytes=50-5000", length: 100) == ByteRange(first: 50, last: 99), "clamped to the end")
        #expect(try ByteRange.requested("bytes=0-1,5-6", length: 100) == nil, "several ranges: the whole file")
        #expect(try ByteRange.requested("items=0-1", length: 100) == nil)
        #expect(try ByteRange.requested("bytes=9-2", length: 100) == nil)
        #expect(try ByteRange.requested("bytes=x-y", length: 100) == nil)
        #expect(ByteRange(first: 0, last: 9).contentRange(of: 100) == "bytes 0-9/100")
        #expect(throws: Problem.self) { try ByteRange.requested("bytes=100-", length: 100) }
        do {
            _ = try ByteRange.requested("bytes=200-300", length: 100)
        } catch {
            #expect(error.code == .rangeNotSatisfiable && error.completeLength == 100)
        }
    }

    /// A WebP container of the given chunks.
    static func webp(_ chunks: [(String, [UInt8])]) -> Data {
        var body = Array("WEBP".utf8)
        for (fourCC, payload) in chunks {
            body += Array(fourCC.utf8) + withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init) + payload
            if payload.count % 2 == 1 { body.append(0) }
        }
        return Data(Array("RIFF".utf8) + withUnsafeBytes(of: UInt32(body.count).littleEndian, Array.init) + body)
    }

    @Test("WebP: EXIF, XMP and ICC chunks and their flags go; image chunks stay byte for byte")
    func webpMetadata() throws {
        let vp8x: [UInt8] = [0x20 | 0x10 | 0x08 | 0x04, 0, 0, 0, 9, 0, 0, 9, 0, 0]
        let image: [UInt8] = [1, 2, 3, 4, 5]
        let original = Self.webp([("VP8X", vp8x), ("ICCP", [7, 7]), ("VP8 ", image), ("EXIF", Array("Exif GPS 52.1".utf8)), ("XMP ", [8])])
        let stripped = WebPMetadata.stripped(original)
        #expect(stripped == Self.webp([("VP8X", [0x10, 0, 0, 0, 9, 0, 0, 9, 0, 0]), ("VP8 ", image)]), "alpha flag kept, the others cleared")
        #expect(WebPMetadata.stripped(stripped) == stripped)
        let notWebP = Data("RIFF....WAVE".utf8)
        #expect(WebPMetadata.stripped(notWebP) == notWebP)
        var truncated = original
        truncated.removeLast(13)  // into the EXIF chunk
        #expect(WebPMetadata.stripped(truncated) == truncated, "a broken container is left alone (it did not come from libvips)")
    }

    @Test("Signed links: exact, bound to their viewer, and ending when they say")
    func signedLinks() throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let links = MediaLinks(now: { clock.withLock { $0 } })
        #expect(links.url(UUID(), .original, for: .anyone) == nil, "no key, no link")
        links.install(MediaLinks.makeSecret())
        let upload = UUID()
        let viewer = UUID()
        func parts(_ url: String) throws -> (exp: Int64, sig: String, viewer: UUID?, variant: String?) {
            let items = try #require(URLComponents(string: url)?.queryItems)
            func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
            return (try #require(Int64(value("exp") ?? "")), try #require(value("sig")), value("viewer").flatMap { UUID(text: $0) }, value("variant"))
        }
        let url = try #require(links.url(upload, .thumbnail, for: .viewer(viewer)))
        #expect(url.hasPrefix("/api/v1/media/\(upload.uuidString.lowercased())?variant=thumbnail&"))
        let link = try parts(url)
        #expect(link.viewer == viewer)
        #expect(links.verify(upload, .thumbnail, expires: link.exp, viewer: viewer, signature: link.sig))
        #expect(!links.verify(upload, .original, expires: link.exp, viewer: viewer, signature: link.sig), "another size")
        #expect(!links.verify(UUID(), .thumbnail, expires: link.exp, viewer: viewer, signature: link.sig), "another upload")
        #expect(!links.verify(upload, .thumbnail, expires: link.exp, viewer: UUID(), signature: link.sig), "another viewer")
        #expect(!links.verify(upload, .thumbnail, expires: link.exp + 86400, viewer: viewer, signature: link.sig), "a later expiry")
        let tampered = String(link.sig.dropLast()) + (link.sig.hasSuffix("A") ? "B" : "A")
        #expect(!links.verify(upload, .thumbnail, expires: link.exp, viewer: viewer, signature: tampered), "one character changed")

        // Answers' links end at a day boundary 24 to 48 hours on, the same all day; events' in an hour.
        let now = clock.withLock { $0.timeIntervalSince1970 }
        #expect(Double(link.exp) - now > 24 * 3600 && Double(link.exp) - now <= 48 * 3600 && link.exp % 86400 == 0)
        clock.withLock { $0 += 600 }
        #expect(try parts(links.url(upload, .thumbnail, for: .viewer(viewer))!).sig == link.sig, "the same URL minutes later: cacheable")
        let event = try parts(try #require(links.url(upload, .original, for: .event)))
        #expect(event.viewer == nil && event.variant == nil)
        #expect(Double(event.exp) - (now + 600) <= 3600 && Double(event.exp) - (now + 600) > 3590)
        clock.withLock { $0 = Date(timeIntervalSince1970: Double(event.exp)) }
        #expect(!links.verify(upload, .original, expires: event.exp, viewer: nil, signature: event.sig), "expired")
        #expect(links.verify(upload, .thumbnail, expires: link.exp, viewer: viewer, signature: link.sig), "the day link still works")

        // Another server's key signs other links.
        let other = MediaLinks(now: { clock.withLock { $0 } })
        other.install(MediaLinks.makeSecret())
        #expect(!other.verify(upload, .thumbnail, expires: link.exp, viewer: viewer, signature: link.sig))
    }
}
