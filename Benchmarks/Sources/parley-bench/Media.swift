import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `parley-bench media`: what images cost the server.
struct Media: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Image uploads (POST /uploads) one at a time and concurrently, then thumbnail reads.",
        discussion: """
            Uploads IMAGE SEQUENTIAL times one after another (the time to process one image), then \
            CONCURRENCY clients upload it in a closed loop for SECONDS (uploads/s), then CONCURRENCY \
            clients read one thumbnail in a closed loop for SECONDS (thumbnails/s). With --server-pid, \
            reports the server's resident memory before and its peak after (VmHWM: a fresh server \
            shows the peak the uploads caused). Start the server with a high --uploads-per-hour.
            """
    )

    @OptionGroup var servers: ServerOptions
    @OptionGroup var load: LoadOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "The image to upload (JPEG, PNG, GIF or WebP).")
    var image: String

    @Option(help: "Uploads one after another, timed one by one (1…100).")
    var sequential = 10

    @Option(help: "The server's process id, to read its memory from /proc.")
    var serverPid: Int?

    func validate() throws {
        try require(sequential, in: 1...100, "sequential")
    }

    /// What an upload answered that the scenario uses.
    struct Uploaded: Sendable {
        var thumbnailURL: String
        var pixels: Int
    }

    struct Result: Encodable {
        var scenario = "media"
        var label: String
        var imageBytes: Int
        var imagePixels: Int
        var concurrency: Int
        var upload: LatencySummary
        var uploadsPerSecond: Double
        var concurrentUpload: LatencySummary
        var thumbnailsPerSecond: Double
        var thumbnail: LatencySummary
        var failed: Int
        var rssBeforeMiB: Double?
        var peakRssMiB: Double?
    }

    func run() async throws {
        let node = try servers.nodes[0]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        let contentType = switch bytes.first {
        case 0xFF: "image/jpeg"
        case 0x89: "image/png"
        case 0x47: "image/gif"
        default: "image/webp"
        }
        let rssBefore = serverPid.flatMap { memory(of: $0, "VmRSS") }
        let result = try await withRestClient(servers) { rest in
            let accounts = try await rest.registerAccounts(max(1, load.concurrency), on: [node])
            @Sendable func upload(_ account: Account) async -> Uploaded? {
                var request = HTTPClientRequest(url: node.baseURL + "/api/v1/uploads")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(account.token)")
                request.headers.add(name: "Content-Type", value: contentType)
                request.body = .bytes(ByteBuffer(bytes: bytes))
                guard let response = try? await rest.http.execute(request, timeout: .seconds(120)), response.status == .created,
                    let body = try? await response.body.collect(upTo: 1 << 20)
                else { return nil }
                guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
                    let thumbnail = object["thumbnailUrl"] as? String, let width = object["width"] as? Int, let height = object["height"] as? Int
                else { return nil }
                return Uploaded(thumbnailURL: thumbnail, pixels: width * height)
            }

            note("\(sequential) uploads one at a time")
            var sequentialLatencies = Latencies()
            var first: Uploaded?
            for _ in 0..<sequential {
                let began = Monotonic.now()
                guard let uploaded = await upload(accounts[0]) else { throw BenchError("an upload failed") }
                sequentialLatencies.record(nanoseconds: Monotonic.now() - began)
                first = first ?? uploaded
            }
            guard let first else { throw BenchError("no upload") }
            let thumbnail = first.thumbnailURL

            note("\(load.concurrency) clients uploading for \(load.seconds) s")
            let uploads = await load.run { client, _ in await upload(accounts[client]) != nil }

            note("\(load.concurrency) clients reading a thumbnail for \(load.seconds) s")
            let reads = await load.run { client, _ in
                (try? await rest.call(.GET, node, thumbnail).status) == 200
            }
            return Result(
                label: output.label,
                imageBytes: bytes.count,
                imagePixels: first.pixels,
                concurrency: load.concurrency,
                upload: sequentialLatencies.summary,
                uploadsPerSecond: uploads.perSecond,
                concurrentUpload: uploads.latencies.summary,
                thumbnailsPerSecond: reads.perSecond,
                thumbnail: reads.latencies.summary,
                failed: uploads.failed + reads.failed,
                rssBeforeMiB: rssBefore,
                peakRssMiB: nil
            )
        }
        var final = result
        final.peakRssMiB = serverPid.flatMap { memory(of: $0, "VmHWM") }
        try report(
            final,
            table: [
                ("media", "\(bytes.count / 1024) KiB, \(Double(final.imagePixels) / 1e6) MP, \(load.concurrency) clients, \(load.seconds) s per phase"),
                ("one upload", final.upload.line),
                ("concurrent uploads", "\(final.uploadsPerSecond)/s; \(final.concurrentUpload.line)"),
                ("thumbnails", "\(final.thumbnailsPerSecond)/s; \(final.thumbnail.line)"),
                ("server memory", "\(final.rssBeforeMiB.map { "\($0) MiB before" } ?? "?"), peak \(final.peakRssMiB.map { "\($0) MiB" } ?? "?")"),
            ],
            output: output
        )
        guard final.failed == 0 else { throw BenchError("\(final.failed) requests failed") }
    }

    /// A `/proc/PID/status` memory line (`VmRSS`, `VmHWM`) in MiB.
    private func memory(of pid: Int, _ field: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return (kib / 1024).rounded(1)
    }
}
