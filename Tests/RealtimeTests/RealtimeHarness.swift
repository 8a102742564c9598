import App
import Foundation
import TestSupport
import Testing
import Realtime

/// A running server (REST + realtime) and the configuration it runs with.
struct Running: Sendable {
    let http: HTTP
    let server: ParleyServer
    let configuration: AppConfiguration
    var port: Int { http.port }
}

/// A running server (REST + realtime) on `backend`, with short realtime timings.
func withRealtime(
    _ backend: TestBackend,
    configure: @escaping @Sendable (inout AppConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (Running) async throws -> Void
) async throws {
    try await backend.withConfiguration { base in
        var configured = base
        configured.realtime.authTimeout = .milliseconds(500)
        configured.realtime.resumeWindow = .milliseconds(300)
        configured.realtime.presenceGrace = 0.3
        configured.realtime.presenceSweepInterval = .milliseconds(100)
        configure(&configured)
        let configuration = configured
        try await withRunningServer(configuration) { http, server in
            try await body(Running(http: http, server: server, configuration: configuration))
        }
    }
}
