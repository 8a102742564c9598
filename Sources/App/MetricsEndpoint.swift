import Foundation
import Hummingbird
import Logging
package import Prometheus

/// Serves `GET /metrics` in the Prometheus text format on a listener of its own
/// (`--metrics-host`, `--metrics-port`), never on the public port: what the process recorded through
/// swift-metrics into `registry`, then gauges read at each scrape — the process's resident memory,
/// open file descriptors and uptime, and whatever `sample` reads (queue depths).
package enum MetricsEndpoint {
    /// A gauge read at scrape time: its name with any labels, its help text and its value.
    typealias Sample = (name: String, help: String, value: String)

    static func application(
        registry: PrometheusCollectorRegistry,
        host: String,
        port: Int,
        sample: @escaping @Sendable () async -> [Sample],
        logger: Logger
    ) -> some ApplicationProtocol {
        let started = Date()
        let router = Router()
        router.get("/metrics") { _, _ in
            var text = registry.emitToString()
            var described: Set<Substring> = []
            for (name, help, value) in processGauges(started: started) + (await sample()) {
                let family = name.prefix { $0 != "{" }
                if described.insert(family).inserted { text += "# HELP \(family) \(help)\n# TYPE \(family) gauge\n" }
                text += "\(name) \(value)\n"
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil), logger: logger)
    }

    /// Memory, descriptors and uptime, from `/proc/self` (absent where there is none).
    static func processGauges(started: Date) -> [Sample] {
        var gauges: [Sample] = [("parley_process_uptime_seconds", "Seconds since the process started serving.", String(format: "%.3f", Date().timeIntervalSince(started)))]
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        {
            gauges.append(("parley_process_resident_memory_bytes", "Resident memory.", String(pages * Int(sysconf(Int32(_SC_PAGESIZE))))))
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            gauges.append(("parley_process_open_fds", "Open file descriptors.", String(descriptors.count)))
        }
        return gauges
    }
}
