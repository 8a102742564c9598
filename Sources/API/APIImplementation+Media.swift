import Auth
import Foundation
import Models
import OpenAPIRuntime
import Store

extension APIImplementation {
    // MARK: - Uploading

    func uploadImage(_ input: Operations.UploadImage.Input) async throws -> Operations.UploadImage.Output {
        let identity = try identity()
        if let wait = limiters.uploadsPerUser.take(identity.userID.lowercased) { throw Problem.rateLimited(retryAfter: wait) }
        let data = try await Self.imageBytes(of: input.body)
        let image = try await images.process(data)
        let upload = try await store.saveUpload(image, owner: identity.userID, now: now())
        return .created(.init(body: .json(upload)))
    }

    /// The image of an upload: the whole body, or the form's part `file`.
    private static func imageBytes(of body: Operations.UploadImage.Input.Body) async throws -> Data {
        let raw: HTTPBody
        switch body {
        case .jpeg(let image), .png(let image), .imageGif(let image), .imageWebp(let image), .binary(let image):
            raw = image
        case .multipartForm(let form):
            var file: HTTPBody?
            do {
                for try await part in form {
                    if case .file(let part) = part, file == nil { file = part.payload.body; break }
                }
            } catch {
                throw Problem.badRequest("The form cannot be read; send the image as its part `file`.")
            }
            guard let file else { throw Problem.invalidField("file", .required, "Send the image as the form's part `file`.") }
            raw = file
        }
        // The body limit of uploads already bounds what arrives; the processor refuses an image over its own.
        do {
            return try await Data(collecting: raw, upTo: .max)
        } catch {
            throw Problem.badRequest("The body cannot be read; send the image, or a form with its part `file`.")
        }
    }

    // MARK: - Serving

    func getMedia(_ input: Operations.GetMedia.Input) async throws -> Operations.GetMedia.Output {
        let upload = try Parameters.pathID(input.path.uploadId, "image")
        let variant = input.query.variant.flatMap { MediaVariant(rawValue: $0.rawValue) } ?? .original
        let viewer = input.query.viewer.flatMap(UUID.init(uuidString:))
        guard let expires = input.query.exp, let signature = input.query.sig, (input.query.viewer == nil) == (viewer == nil),
            store.media.verify(upload, variant, expires: expires, viewer: viewer, signature: signature)
        else { throw Problem.forbidden("This link is not valid, or has expired.") }
        guard let blob = try await store.mediaBlob(upload, variant, viewer: viewer) else {
            throw Problem.notFound("This image is gone, or no longer yours to see.")
        }

        let eTag = "\"\(blob.hash)\""
        let maxAge = max(0, expires - Int64(now().timeIntervalSince1970))
        let cacheControl = "private, max-age=\(maxAge), immutable"
        if let match = input.headers.ifNoneMatch, match == "*" || match.split(separator: ",").contains(where: { $0.trimmed == eTag }) {
            return .notModified(.init(headers: .init(eTag: eTag, cacheControl: cacheControl)))
        }
        let disposition = "inline; filename=\"\(upload.lowercased).\(Self.fileExtension(blob.contentType))\""
        let policy = "default-src 'none'; sandbox"
        if let range = try ByteRange.requested(input.headers.range, length: blob.data.count) {
            let bytes = HTTPBody(blob.data[range.first...range.last])
            return .partialContent(
                .init(
                    headers: .init(
                        contentRange: range.contentRange(of: blob.data.count),
                        eTag: eTag,
                        cacheControl: cacheControl,
                        contentDisposition: disposition,
                        xContentTypeOptions: "nosniff",
                        contentSecurityPolicy: policy,
                        acceptRanges: "bytes"
                    ),
                    body: Self.partialBody(bytes, blob.contentType)
                )
            )
        }
        return .ok(
            .init(
                headers: .init(
                    eTag: eTag,
                    cacheControl: cacheControl,
                    contentDisposition: disposition,
                    xContentTypeOptions: "nosniff",
                    contentSecurityPolicy: policy,
                    acceptRanges: "bytes"
                ),
                body: Self.wholeBody(HTTPBody(blob.data), blob.contentType)
            )
        )
    }

    private static func wholeBody(_ body: HTTPBody, _ contentType: String) -> Operations.GetMedia.Output.Ok.Body {
        switch contentType {
        case "image/jpeg": .jpeg(body)
        case "image/png": .png(body)
        case "image/gif": .imageGif(body)
        default: .imageWebp(body)
        }
    }

    private static func partialBody(_ body: HTTPBody, _ contentType: String) -> Operations.GetMedia.Output.PartialContent.Body {
        switch contentType {
        case "image/jpeg": .jpeg(body)
        case "image/png": .png(body)
        case "image/gif": .imageGif(body)
        default: .imageWebp(body)
        }
    }

    private static func fileExtension(_ contentType: String) -> String {
        switch contentType {
        case "image/jpeg": "jpg"
        case "image/png": "png"
        case "image/gif": "gif"
        default: "webp"
        }
    }

    // MARK: - Avatars and group icons

    func setAvatar(_ input: Operations.SetAvatar.Input) async throws -> Operations.SetAvatar.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let upload = try Parameters.id(body.uploadId, field: "uploadId")
        guard let user = try await store.setAvatar(of: identity.userID, to: upload, now: now()) else { throw Problem.unauthorized }
        return .ok(.init(body: .json(user)))
    }

    func removeAvatar(_ input: Operations.RemoveAvatar.Input) async throws -> Operations.RemoveAvatar.Output {
        let identity = try identity()
        guard let user = try await store.setAvatar(of: identity.userID, to: nil, now: now()) else { throw Problem.unauthorized }
        return .ok(.init(body: .json(user)))
    }

    func setGroupIcon(_ input: Operations.SetGroupIcon.Input) async throws -> Operations.SetGroupIcon.Output {
        let identity = try identity()
        let group = try Parameters.pathID(input.path.conversationId, "group")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let upload = try Parameters.id(body.uploadId, field: "uploadId")
        return .ok(.init(body: .json(try await store.setIcon(of: group, to: upload, by: identity.userID, now: now()))))
    }

    func removeGroupIcon(_ input: Operations.RemoveGroupIcon.Input) async throws -> Operations.RemoveGroupIcon.Output {
        let identity = try identity()
        let group = try Parameters.pathID(input.path.conversationId, "group")
        return .ok(.init(body: .json(try await store.setIcon(of: group, to: nil, by: identity.userID, now: now()))))
    }
}

extension Substring {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
