package import App
import Foundation
import Logging

/// Runs the whole server — REST and realtime — in this process on a free port of 127.0.0.1, for
/// tests that need real sockets but in-process control (timings, clocks, shutdown).
package func withRunningServer<T: Sendable>(
    _ configuration: AppConfiguration,
    _ body: @Sendable (HTTP, ParleyServer) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.port = 0
    let server = try await buildServer(configuration, gracefulShutdownSignals: [], logger: TestBackend.logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            var ports = server.listening.makeAsyncIterator()
            guard let port = await ports.next() else {
                try await group.waitForAll()
                throw TestSetupError("the server stopped before it listened")
            }
            let http = HTTP(port: port)
            try await http.waitUntilReady()
            let result = try await body(http, server)
            await server.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}
