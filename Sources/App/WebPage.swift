import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import HTTPTypes

/// The reference web page: the files of a folder (`Public/` by default), read once at start-up and
/// served from memory at their paths, with `/` and the pages the server mails links to
/// (`/reset-password`, `/verify-email`) answered by `index.html`, which routes on the client, and
/// `/docs` by `docs/index.html` (the interactive API docs).
///
/// Every answer carries a strong `ETag` (the file's SHA-256) and `Cache-Control: no-cache`, so
/// browsers revalidate and get `304` until a file changes — no build step renames them — and a
/// strict `Content-Security-Policy`: scripts, styles, images and connections from this origin only.
struct WebPage: Sendable {
    /// One file, ready to send.
    struct File: Sendable {
        var body: ByteBuffer
        var contentType: String
        var etag: String
    }

    /// Paths that answer with `index.html`: the page's own routes.
    static let pageRoutes = ["/", "/reset-password", "/verify-email"]

    /// The policy of every page answer.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:",
        "connect-src 'self'", "font-src 'self'", "manifest-src 'self'", "worker-src 'self'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    let files: [String: File]

    /// Reads every file under `directory`, but its README and its `screenshots/`; nil when the
    /// folder is missing.
    init?(directory: String, logger: Logger) {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            logger.warning("No web page: the folder is missing", metadata: ["path": "\(directory)"])
            return nil
        }
        var files: [String: File] = [:]
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                let data = try? Data(contentsOf: url)
            else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(root.path.count))
            guard path != "/README.md", !path.hasPrefix("/screenshots/"), !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else {
                continue
            }
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            files[path] = File(body: ByteBuffer(data: data), contentType: Self.contentType(of: path), etag: "\"\(digest.prefix(32))\"")
        }
        guard files["/index.html"] != nil else {
            logger.warning("No web page: the folder has no index.html", metadata: ["path": "\(directory)"])
            return nil
        }
        self.files = files
    }

    /// Adds a route for every file and for the page's own routes.
    func register<Context: RequestContext>(on router: Router<Context>) {
        for (path, file) in files where path != "/index.html" {
            router.get(RouterPath(path)) { request, _ in Self.answer(file, to: request) }
        }
        if let docs = files["/docs/index.html"] {  // also answers `/docs/`: the router ignores a trailing slash
            router.get("/docs") { request, _ in Self.answer(docs, to: request) }
        }
        guard let index = files["/index.html"] else { return }
        for path in Self.pageRoutes + ["/index.html"] {
            router.get(RouterPath(path)) { request, _ in Self.answer(index, to: request) }
        }
    }

    static func answer(_ file: File, to request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .eTag: file.etag,
            .cacheControl: "no-cache",
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if let tags = request.headers[.ifNoneMatch], tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag }) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(file.body.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "webmanifest": "application/manifest+json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        case "txt", "md": "text/plain; charset=utf-8"
        case "yaml", "yml": "application/yaml; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
