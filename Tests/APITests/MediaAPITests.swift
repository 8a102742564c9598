import API
import App
import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import Models
import NIOCore
import NIOFoundationEssentialsCompat
import OpenAPIRuntime
import Store
import TestSupport
import Testing

/// The image fixtures of `Tests/Fixtures/make_images.py`, and what none of them may keep.
enum Images {
    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: Repository.fixture("images/\(name)")))
    }

    /// A camera name, a comment: what `make_images.py` hid in the files.
    static let secrets = ["ParleyCam-9000", "parley-secret-comment"]

    /// Whether `data` still holds any metadata the fixtures carried: the markers, an EXIF block
    /// (JPEG APP1, PNG `eXIf`, WebP `EXIF`), or a GPS position.
    static func hasMetadata(_ data: Data) -> Bool {
        let bytes = [UInt8](data)
        func contains(_ text: String) -> Bool { contains(Array(text.utf8)) }
        func contains(_ needle: [UInt8]) -> Bool {
            guard needle.count <= bytes.count else { return false }
            return (0...(bytes.count - needle.count)).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
        }
        return secrets.contains(where: contains) || contains("Exif\0\0") || contains("eXIf") || contains("EXIF") || contains("XMP")
            || contains([0x00, 0x02, 0x00, 0x05])  // the GPS latitude tag, 0x0002 of type RATIONAL (big-endian)
            || contains([0x02, 0x00, 0x05, 0x00])  // …little-endian
    }

    /// The width and height a WebP file declares (lossy `VP8 `, lossless `VP8L` or extended `VP8X`).
    static func webpSize(_ data: Data) -> (width: Int, height: Int)? {
        let b = [UInt8](data).map(Int.init)
        guard format(data) == "webp", b.count >= 30 else { return nil }
        switch String(decoding: data[12..<16], as: UTF8.self) {
        case "VP8 ": return (b[26] | (b[27] & 0x3F) << 8, b[28] | (b[29] & 0x3F) << 8)
        case "VP8L":
            let bits = b[21] | b[22] << 8 | b[23] << 16 | b[24] << 24
            return ((bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1)
        case "VP8X": return (1 + (b[24] | b[25] << 8 | b[26] << 16), 1 + (b[27] | b[28] << 8 | b[29] << 16))
        default: return nil
        }
    }

    /// The image format whose signature `data` starts with.
    static func format(_ data: Data) -> String {
        let bytes = [UInt8](data.prefix(12))
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "png" }
        if bytes.starts(with: Array("GIF8".utf8)) { return "gif" }
        if bytes.starts(with: Array("RIFF".utf8)) && bytes.count == 12 && Array(bytes[8..<12]) == Array("WEBP".utf8) { return "webp" }
        return "other"
    }
}

@Suite("Images over REST: upload, processing, serving, use", .timeLimit(.minutes(2)))
struct MediaAPITests {
    /// Alice (the owner) and Bob in one group; Carol outside it.
    struct Fixture {
        var app: TestApp
        var alice: Client
        var bob: Client
        var carol: Client
        var aliceID: String
        var bobID: String
        var group: String
    }

    func withGroup(
        _ backend: TestBackend,
        configure: @escaping @Sendable (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (Fixture) async throws -> Void
    ) async throws {
        try await withApp(backend, configure: configure) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let carol = try await app.register("carol")
            let group = try await app.api(token: alice.accessToken).createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created
                .body.json.id
            try await body(
                Fixture(
                    app: app,
                    alice: app.api(token: alice.accessToken),
                    bob: app.api(token: bob.accessToken),
                    carol: app.api(token: carol.accessToken),
                    aliceID: alice.user.id,
                    bobID: bob.user.id,
                    group: group
                )
            )
        }
    }

    /// Uploads a fixture as the raw body with `contentType`.
    static func upload(_ client: Client, _ name: String, as contentType: String = "image/jpeg") async throws -> ParleyClient.Operations.UploadImage.Output {
        try await upload(client, try Images.data(name), as: contentType)
    }

    static func upload(_ client: Client, _ data: Data, as contentType: String) async throws -> ParleyClient.Operations.UploadImage.Output {
        let body = HTTPBody(data)
        return switch contentType {
        case "image/jpeg": try await client.uploadImage(body: .jpeg(body))
        case "image/png": try await client.uploadImage(body: .png(body))
        case "image/gif": try await client.uploadImage(body: .imageGif(body))
        case "image/webp": try await client.uploadImage(body: .imageWebp(body))
        default: try await client.uploadImage(body: .binary(body))
        }
    }

    /// Fetches a media URL as a browser would: no token.
    static func fetch(_ app: TestApp, _ url: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await app.raw(method, url, headers: headers)
    }

    @Test("A JPEG is stored upright and without metadata, and served with its headers", arguments: TestBackend.all)
    func uploadAndServe(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let upload = try await Self.upload(f.alice, "photo-exif-gps.jpg").created.body.json
            // Stored 64 × 48 with EXIF orientation 6: upright it is 48 × 64.
            #expect(upload.contentType == .imageJpeg && upload.width == 48 && upload.height == 64)

            let original = try await Self.fetch(f.app, upload.url)
            #expect(original.status == .ok)
            let bytes = Data(buffer: original.body)
            #expect(Images.format(bytes) == "jpeg" && bytes.count == upload.size)
            #expect(!Images.hasMetadata(bytes), "EXIF, GPS, camera and comment are gone")
            #expect(original.headers[.contentType] == "image/jpeg")
            #expect(original.headers[.contentLength] == String(bytes.count))
            #expect(original.headers[.xContentTypeOptions] == "nosniff")
            #expect(original.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox")
            #expect(original.headers[.contentDisposition] == "inline; filename=\"\(upload.id).jpg\"")
            #expect(original.headers[.acceptRanges] == "bytes")
            let cacheControl = try #require(original.headers[.cacheControl])
            #expect(cacheControl.hasPrefix("private, max-age=") && cacheControl.hasSuffix(", immutable"))
            let eTag = try #require(original.headers[.eTag])
            #expect(eTag.hasPrefix("\"") && eTag.count == 66, "a strong ETag: the quoted SHA-256")

            // The orientation was applied and its tag removed: the served file, uploaded again, stays 48 × 64.
            let again = try await Self.upload(f.alice, bytes, as: "image/jpeg").created.body.json
            #expect(again.width == 48 && again.height == 64)

            let thumbnail = try await Self.fetch(f.app, upload.thumbnailUrl)
            #expect(thumbnail.status == .ok && thumbnail.headers[.contentType] == "image/webp")
            #expect(Images.format(Data(buffer: thumbnail.body)) == "webp")

            // Conditional and partial requests, and HEAD.
            #expect(try await Self.fetch(f.app, upload.url, headers: [.ifNoneMatch: eTag]).status == .notModified)
            #expect(try await Self.fetch(f.app, upload.url, headers: [.ifNoneMatch: "\"other\""]).status == .ok)
            let partial = try await Self.fetch(f.app, upload.url, headers: [.range: "bytes=0-9"])
            #expect(partial.status == .partialContent && partial.headers[.contentRange] == "bytes 0-9/\(bytes.count)")
            #expect(Data(buffer: partial.body) == bytes.prefix(10))
            let tail = try await Self.fetch(f.app, upload.url, headers: [.range: "bytes=-5"])
            #expect(tail.status == .partialContent && Data(buffer: tail.body) == bytes.suffix(5))
            let outside = try await Self.fetch(f.app, upload.url, headers: [.range: "bytes=\(bytes.count)-"])
            #expect(outside.status == .rangeNotSatisfiable && outside.headers[.contentRange] == "bytes */\(bytes.count)")
            #expect(try outside.problem.code == "range_not_satisfiable")
            let head = try await Self.fetch(f.app, upload.url, method: .head)
            #expect(head.status == .ok && head.body.readableBytes == 0 && head.headers[.eTag] == eTag)
        }
    }

    @Test("PNG (as a form), GIF and WebP: metadata gone, animation kept, the thumbnail a still", arguments: TestBackend.all)
    func otherFormats(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let form: MultipartBody<ParleyClient.Operations.UploadImage.Input.Body.MultipartFormPayload> = [
                .file(.init(payload: .init(body: HTTPBody(try Images.data("gps.png"))), filename: "holiday.png"))
            ]
            let png = try await f.alice.uploadImage(body: .multipartForm(form)).created.body.json
            #expect(png.contentType == .imagePng && png.width == 40 && png.height == 30)
            let pngBytes = Data(buffer: try await Self.fetch(f.app, png.url).body)
            #expect(Images.format(pngBytes) == "png" && !Images.hasMetadata(pngBytes), "the eXIf chunk with GPS and the comment are gone")

            // The declared type does not matter: a GIF sent as image/png is a GIF.
            let gif = try await Self.upload(f.alice, "animated.gif", as: "image/png").created.body.json
            #expect(gif.contentType == .imageGif && gif.width == 32 && gif.height == 24)
            let gifBytes = Data(buffer: try await Self.fetch(f.app, gif.url).body)
            #expect(Images.format(gifBytes) == "gif" && !Images.hasMetadata(gifBytes))
            let frames = [UInt8](gifBytes).split(separator: 0x2C, omittingEmptySubsequences: false).count - 1
            #expect(frames >= 3, "every frame is kept (image descriptors: \(frames))")
            let still = Data(buffer: try await Self.fetch(f.app, gif.thumbnailUrl).body)
            #expect(Images.format(still) == "webp" && !String(decoding: still, as: UTF8.self).contains("ANIM"))

            let webp = try await Self.upload(f.alice, "still.webp", as: "application/octet-stream").created.body.json
            #expect(webp.contentType == .imageWebp)
            let webpBytes = Data(buffer: try await Self.fetch(f.app, webp.url).body)
            #expect(Images.format(webpBytes) == "webp" && !Images.hasMetadata(webpBytes))
        }
    }

    @Test("Hostile and broken files are refused with the right 4xx, never a 500", arguments: TestBackend.all)
    func hostileFiles(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let jpeg = try Images.data("photo-exif-gps.jpg")
            let png = try Images.data("gps.png")
            func status(_ data: Data, as contentType: String = "image/jpeg") async throws -> (Int, String?) {
                let output = try await Self.upload(f.alice, data, as: contentType)
                switch output {
                case .created: return (201, nil)
                case .unsupportedMediaType(let refusal): return (415, try refusal.body.applicationProblemJson.code)
                case .unprocessableContent(let refusal): return (422, try refusal.body.applicationProblemJson.code)
                case .contentTooLarge(let refusal): return (413, try refusal.body.applicationProblemJson.code)
                case .badRequest(let refusal): return (400, try refusal.body.applicationProblemJson.code)
                default: return (0, "\(output)")
                }
            }
            // Not an image, whatever it says it is.
            #expect(try await status(Data("%PDF-1.4 not an image".utf8), as: "image/png") == (415, "unsupported_media_type"))
            #expect(try await status(Data("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8), as: "image/png") == (415, "unsupported_media_type"))
            #expect(try await status(Data([0x00, 0x00, 0x00])) == (415, "unsupported_media_type"))
            // Zero bytes.
            let dave = try await f.app.register("dave").accessToken
            let empty = try await f.app.raw(.post, "/api/v1/uploads", headers: [.authorization: "Bearer \(dave)", .contentType: "image/png"])
            #expect(empty.status.code / 100 == 4 && empty.status != .notFound)
            // A real signature in front of a script: a GIF/JavaScript polyglot does not decode.
            #expect(try await status(Data("GIF89a/*\u{0}\u{0}*/=alert(document.cookie)//;".utf8), as: "image/gif") == (422, "unreadable_image"))
            // Truncated: the first half of a JPEG, of a PNG.
            #expect(try await status(jpeg.prefix(jpeg.count / 2)) == (422, "unreadable_image"))
            #expect(try await status(png.prefix(png.count / 2), as: "image/png") == (422, "unreadable_image"))
            // A small file that claims 10 gigapixels: refused from its header.
            #expect(try await status(try Images.data("bomb.png"), as: "image/png") == (422, "image_too_large"))
            // Over 10 MiB.
            #expect(try await status(jpeg + Data(count: 10 * 1024 * 1024)) == (413, "payload_too_large"))
            // A valid PNG with a web page after its end: stored re-encoded, without the page.
            let polyglot = png + Data("<html><script>alert(1)</script></html>".utf8)
            let stored = try await Self.upload(f.alice, polyglot, as: "image/png").created.body.json
            let served = Data(buffer: try await Self.fetch(f.app, stored.url).body)
            #expect(!String(decoding: served, as: UTF8.self).contains("<script>"))
            // A form without the part `file`.
            // (The generated client refuses to send such a form, so it is written by hand.)
            let erin = try await f.app.register("erin").accessToken
            let photo = "--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\r\nnot sent as file\r\n--b--\r\n"
            let missing = try await f.app.raw(.post, "/api/v1/uploads", headers: [.authorization: "Bearer \(erin)", .contentType: "multipart/form-data; boundary=b"], body: photo)
            #expect(missing.status == .badRequest)
            #expect(try missing.problem.code == "bad_request" && missing.problem.detail?.contains("`file`") == true)
            // Not an image content type at all.
            let text = try await f.app.raw(.post, "/api/v1/uploads", headers: [.authorization: "Bearer \(erin)", .contentType: "text/plain"], body: "hello")
            #expect(text.status == .unsupportedMediaType)
            #expect(try text.problem.code == "unsupported_media_type")
        }
    }

    @Test("Limits are configurable: bytes, pixels, uploads per hour", arguments: TestBackend.all)
    func configurableLimits(backend: TestBackend) async throws {
        try await withGroup(backend, configure: { $0.images.maxBytes = 1200 }) { f in
            let refused = try await Self.upload(f.alice, "photo-exif-gps.jpg").contentTooLarge.body.applicationProblemJson
            #expect(refused.code == "payload_too_large")
            _ = try await Self.upload(f.alice, "gps.png", as: "image/png").created
        }
        try await withGroup(backend, configure: { $0.images.maxPixels = 40 * 30 }) { f in
            #expect(try await Self.upload(f.alice, "photo-exif-gps.jpg").unprocessableContent.body.applicationProblemJson.code == "image_too_large")
            _ = try await Self.upload(f.alice, "gps.png", as: "image/png").created
            // Three frames of 32 × 24 count as 2,304 pixels.
            #expect(try await Self.upload(f.alice, "animated.gif", as: "image/gif").unprocessableContent.body.applicationProblemJson.code == "image_too_large")
        }
        try await withGroup(backend, configure: { $0.limits.uploadsPerUser = .init(limit: 2, window: 3600) }) { f in
            _ = try await Self.upload(f.alice, "gps.png", as: "image/png").created
            _ = try await Self.upload(f.alice, "gps.png", as: "image/png").created
            let limited = try await Self.upload(f.alice, "gps.png", as: "image/png").tooManyRequests
            #expect(Int(limited.headers.retryAfter) > 0)
            _ = try await Self.upload(f.bob, "gps.png", as: "image/png").created
        }
    }

    @Test("Past the processing queue's bound an upload is refused at once with 503 and Retry-After", arguments: [TestBackend.sqlite])
    func processingQueueIsBounded(backend: TestBackend) async throws {
        try await withGroup(backend, configure: { configuration in
            configuration.imageThreads = 1
            configuration.imagesWaiting = 1
        }) { f in
            let wide = try Images.data("wide.jpg")
            let answers = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        switch try await Self.upload(f.alice, wide, as: "image/jpeg") {
                        case .created: (201, nil)
                        case .serviceUnavailable(let busy): (503, Int(busy.headers.retryAfter))
                        case let other: (0, "\(other)".count)
                        }
                    }
                }
                return try await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
            }
            let refused = answers.filter { $0.0 == 503 }
            #expect(!refused.isEmpty, "\(answers)")
            #expect(refused.allSatisfy { ($0.1 ?? 0) >= 1 })
            #expect(answers.allSatisfy { $0.0 == 201 || $0.0 == 503 }, "\(answers)")
        }
    }

    @Test("Messages carry images: rules, history, search, the conversation list, edits and events", arguments: TestBackend.all)
    func attachments(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let path = ParleyClient.Operations.SendMessage.Input.Path(conversationId: f.group)
            let photo = try await Self.upload(f.alice, "photo-exif-gps.jpg").created.body.json
            let gif = try await Self.upload(f.alice, "animated.gif", as: "image/gif").created.body.json
            let bobs = try await Self.upload(f.bob, "gps.png", as: "image/png").created.body.json

            // Refusals name the field.
            func refusal(_ body: ParleyClient.Components.Schemas.SendMessageRequest) async throws -> [String] {
                try await f.alice.sendMessage(path: path, body: .json(body)).badRequest.body.applicationProblemJson.errors?.map(\.field) ?? []
            }
            #expect(try await refusal(.init(clientMessageId: "a", attachments: [bobs.id])) == ["attachments[0]"], "someone else's upload")
            #expect(try await refusal(.init(clientMessageId: "b", attachments: [photo.id, photo.id])) == ["attachments[1]"], "named twice")
            #expect(try await refusal(.init(clientMessageId: "c", attachments: Array(repeating: photo.id, count: 11))) == ["attachments"])
            #expect(try await refusal(.init(clientMessageId: "d", attachments: ["junk"])) == ["attachments[0]"])
            #expect(try await refusal(.init(clientMessageId: "e")) == ["body"], "no text and no image")

            // Images only, no text.
            let sent = try await f.alice.sendMessage(path: path, body: .json(.init(clientMessageId: "pics", attachments: [photo.id, gif.id]))).created.body.json
            #expect(sent.body == "" && sent.attachments?.map(\.id) == [photo.id, gif.id])
            #expect(sent.attachments?.first?.width == 48 && sent.attachments?.first?.contentType == .imageJpeg)
            // Used once.
            #expect(try await refusal(.init(clientMessageId: "f", body: "again", attachments: [photo.id])) == ["attachments[0]"])
            // The retry of a send answers the same message, images included.
            let retried = try await f.alice.sendMessage(path: path, body: .json(.init(clientMessageId: "pics", attachments: [photo.id, gif.id]))).ok.body.json
            #expect(retried.attachments?.map(\.id) == [photo.id, gif.id])

            // Bob sees them in history, with links bound to him that work.
            let history = try await f.bob.listMessages(path: .init(conversationId: f.group)).ok.body.json.items
            let seen = try #require(history.last?.attachments?.first)
            #expect(seen.url.contains("viewer=\(f.bobID)"))
            #expect(try await Self.fetch(f.app, seen.thumbnailUrl).status == .ok)
            // …in the conversation list and in search results.
            let listed = try await f.bob.listConversations().ok.body.json.items.first { $0.id == f.group }
            #expect(listed?.lastMessage?.attachments?.count == 2)
            let captioned = try await Self.upload(f.alice, "still.webp", as: "image/webp").created.body.json
            _ = try await f.alice.sendMessage(path: path, body: .json(.init(clientMessageId: "cap", body: "the tarts", attachments: [captioned.id]))).created
            let hit = try await f.bob.searchMessages(query: .init(q: "tarts")).ok.body.json.items.first
            #expect(hit?.message.attachments?.map(\.id) == [captioned.id])

            // The event carries them too, with links for whoever it reaches (no viewer), that work.
            let events = try await f.bob.listConversationEvents(path: .init(conversationId: f.group)).ok.body.json.items
            let created = try #require(events.first { Self.attachmentURL(in: $0) != nil })
            let eventLink = try #require(Self.attachmentURL(in: created))
            #expect(!eventLink.contains("viewer="))
            #expect(try await Self.fetch(f.app, eventLink).status == .ok)

            // An edit keeps the images, in the answer and in the logged event.
            let edited = try await f.alice.editMessage(path: .init(messageId: sent.id), body: .json(.init(body: "now with words"))).ok.body.json
            #expect(edited.attachments?.map(\.id) == [photo.id, gif.id])
            let rewritten = try await f.bob.listConversationEvents(path: .init(conversationId: f.group)).ok.body.json.items
            #expect(rewritten.contains { Self.attachmentURL(in: $0)?.contains(photo.id) == true })

            // Deleting the message revokes every link to its images.
            _ = try await f.alice.deleteMessage(path: .init(messageId: sent.id)).noContent
            #expect(try await Self.fetch(f.app, seen.url).status == .notFound)
            #expect(try await Self.fetch(f.app, eventLink).status == .notFound)
            let tombstone = try await f.bob.listMessages(path: .init(conversationId: f.group)).ok.body.json.items.first { $0.id == sent.id }
            #expect(tombstone?.deleted == true && (tombstone?.attachments ?? []).isEmpty)
            let cleared = try await f.bob.listConversationEvents(path: .init(conversationId: f.group)).ok.body.json.items
            #expect(!cleared.contains { Self.attachmentURL(in: $0)?.contains(photo.id) == true })
        }
    }

    @Test("Links: only the signed, unexpired, untampered ones work; leaving a conversation ends one's access", arguments: TestBackend.all)
    func access(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let photo = try await Self.upload(f.alice, "photo-exif-gps.jpg").created.body.json
            // Unused, an upload is its uploader's alone: the link works, and binds her.
            #expect(try await Self.fetch(f.app, photo.url).status == .ok)
            var components = try #require(URLComponents(string: photo.url))
            func with(_ name: String, _ value: String?) -> String {
                var changed = components
                changed.queryItems = (components.queryItems ?? []).filter { $0.name != name } + (value.map { [URLQueryItem(name: name, value: $0)] } ?? [])
                return changed.string ?? ""
            }
            // Unsigned, tampered, expired, for someone else, or another size: 403.
            #expect(try await Self.fetch(f.app, with("sig", nil)).status == .forbidden)
            #expect(try await Self.fetch(f.app, with("sig", "AAAAAAAAAAAAAAAAAAAAAA")).status == .forbidden)
            #expect(try await Self.fetch(f.app, with("exp", "1000")).status == .forbidden)
            #expect(try await Self.fetch(f.app, with("exp", String(Int(Date().timeIntervalSince1970) + 10 * 86400))).status == .forbidden)
            #expect(try await Self.fetch(f.app, with("viewer", f.bobID)).status == .forbidden)
            #expect(try await Self.fetch(f.app, with("viewer", nil)).status == .forbidden)
            #expect(try await Self.fetch(f.app, with("variant", "avatar")).status == .forbidden)
            #expect(try await Self.fetch(f.app, "/api/v1/media/not-an-id?exp=1&sig=x").status == .notFound)
            components = try #require(URLComponents(string: photo.url))

            // Sent to the group: Bob's link works while he is a member, and stops when he leaves.
            let sent = try await f.alice.sendMessage(path: .init(conversationId: f.group), body: .json(.init(clientMessageId: "p", attachments: [photo.id])))
                .created.body.json
            let bobsLink = try #require(try await f.bob.listMessages(path: .init(conversationId: f.group)).ok.body.json.items.first { $0.id == sent.id }?.attachments?.first?.url)
            #expect(try await Self.fetch(f.app, bobsLink).status == .ok)
            _ = try await f.alice.removeMember(path: .init(conversationId: f.group, userId: f.bobID)).noContent
            #expect(try await Self.fetch(f.app, bobsLink).status == .notFound)
            // Carol, outside, cannot attach it, nor make it her avatar.
            #expect(try await f.carol.setAvatar(body: .json(.init(uploadId: photo.id))).badRequest.body.applicationProblemJson.errors?.first?.field == "uploadId")
        }
    }

    @Test("Avatars and group icons: set, shown everywhere a profile or the group is, removed", arguments: TestBackend.all)
    func avatarsAndIcons(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let picture = try await Self.upload(f.bob, "photo-exif-gps.jpg").created.body.json
            let me = try await f.bob.setAvatar(body: .json(.init(uploadId: picture.id))).ok.body.json
            let avatarURL = try #require(me.avatarUrl)
            #expect(avatarURL.contains("variant=avatar") && !avatarURL.contains("viewer="))
            let avatar = try await Self.fetch(f.app, avatarURL)
            #expect(avatar.status == .ok && avatar.headers[.contentType] == "image/webp")

            // Anyone signed in sees it: on his profile, in the member list, among contacts.
            #expect(try await f.carol.getUser(path: .init(userId: f.bobID)).ok.body.json.avatarUrl != nil)
            let members = try await f.alice.listMembers(path: .init(conversationId: f.group)).ok.body.json.items
            #expect(members.first { $0.user.id == f.bobID }?.user.avatarUrl != nil)
            #expect(members.first { $0.user.id == f.aliceID }?.user.avatarUrl == nil)
            _ = try await f.carol.putContact(path: .init(userId: f.bobID)).ok
            #expect(try await f.carol.listContacts().ok.body.json.items.first?.user.avatarUrl != nil)
            // A direct conversation's icon is the other person's avatar.
            let direct = try await f.carol.openDirectConversation(body: .json(.init(userId: f.bobID))).created.body.json
            #expect(direct.iconUrl != nil)
            // Used as an avatar, an upload cannot go into a message.
            let refused = try await f.bob.sendMessage(path: .init(conversationId: f.group), body: .json(.init(clientMessageId: "x", attachments: [picture.id])))
            #expect(try refused.badRequest.body.applicationProblemJson.errors?.first?.field == "attachments[0]")

            // Group icons: admins and the owner only.
            let icon = try await Self.upload(f.bob, "gps.png", as: "image/png").created.body.json
            _ = try await f.bob.setGroupIcon(path: .init(conversationId: f.group), body: .json(.init(uploadId: icon.id))).forbidden
            let aliceIcon = try await Self.upload(f.alice, "gps.png", as: "image/png").created.body.json
            let group = try await f.alice.setGroupIcon(path: .init(conversationId: f.group), body: .json(.init(uploadId: aliceIcon.id))).ok.body.json
            let iconURL = try #require(group.iconUrl)
            #expect(try await Self.fetch(f.app, iconURL).status == .ok)
            #expect(try await f.bob.getConversation(path: .init(conversationId: f.group)).ok.body.json.iconUrl != nil)
            _ = try await f.carol.setGroupIcon(path: .init(conversationId: f.group), body: .json(.init(uploadId: aliceIcon.id))).notFound

            // Removed.
            #expect(try await f.bob.removeAvatar().ok.body.json.avatarUrl == nil)
            #expect(try await f.carol.getUser(path: .init(userId: f.bobID)).ok.body.json.avatarUrl == nil)
            #expect(try await f.alice.removeGroupIcon(path: .init(conversationId: f.group)).ok.body.json.iconUrl == nil)
        }
    }

    @Test("Each size as documented: the thumbnail fits 320 × 320, avatars are 256 and 64 square; events carry the new picture", arguments: TestBackend.all)
    func sizes(backend: TestBackend) async throws {
        try await withGroup(backend) { f in
            let wide = try await Self.upload(f.bob, "wide.jpg").created.body.json
            #expect(wide.width == 640 && wide.height == 400)
            let thumbnail = try await Self.fetch(f.app, wide.thumbnailUrl)
            #expect(Images.webpSize(Data(buffer: thumbnail.body)).map { [$0.width, $0.height] } == [320, 200])

            let me = try await f.bob.setAvatar(body: .json(.init(uploadId: wide.id))).ok.body.json
            let avatarURL = try #require(me.avatarUrl)
            let avatar = try await Self.fetch(f.app, avatarURL)
            #expect(Images.webpSize(Data(buffer: avatar.body)).map { [$0.width, $0.height] } == [256, 256])
            // The same link names the small size; it signs no other.
            let small = try await Self.fetch(f.app, avatarURL.replacingOccurrences(of: "variant=avatar", with: "variant=avatar_small"))
            #expect(small.status == .ok)
            #expect(Images.webpSize(Data(buffer: small.body)).map { [$0.width, $0.height] } == [64, 64])
            for other in ["variant=thumbnail", "variant=original"] {
                let refused = try await Self.fetch(f.app, avatarURL.replacingOccurrences(of: "variant=avatar", with: other))
                #expect(refused.status == .forbidden, "\(other)")
            }

            // Co-members hear of it in the group's stream, Bob's other devices in his own.
            let events = try await f.alice.listConversationEvents(path: .init(conversationId: f.group)).ok.body.json.items
            let announced = events.compactMap { event -> String? in
                guard case .profile_updated(let updated) = event, updated.data.user.id == f.bobID else { return nil }
                return updated.data.user.avatarUrl
            }
            #expect(announced.count == 1 && announced.first?.contains("variant=avatar") == true)
            let own = try await f.app.configuration.withStore { store in
                try await store.events(in: .user(UUID(uuidString: f.bobID)!), after: 0, limit: 100)
            }
            #expect(own.contains { if case .userUpdated(let user) = $0.payload { user.avatarURL != nil } else { false } })
        }
    }

    /// The `url` of the first attachment of a `message.created` event, if it has one.
    static func attachmentURL(in event: ParleyClient.Components.Schemas.Event) -> String? {
        guard case .message_created(let created) = event else { return nil }
        return created.data.attachments?.first?.url
    }
}
