import Foundation
import Logging
import ServiceLifecycle
import Store

/// Deletes expired tokens and dead sessions once an hour.
struct Janitor: Service {
    static let interval: Duration = .seconds(3600)

    let store: Store
    let now: @Sendable () -> Date
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: Self.interval)) != nil {
                await prune()
            }
        }
    }

    private func prune() async {
        do {
            let report = try await store.pruneExpired(now: now())
            logger.debug(
                "Pruned expired rows",
                metadata: [
                    "refreshTokens": "\(report.refreshTokens)",
                    "resetTokens": "\(report.resetTokens)",
                    "sessions": "\(report.sessions)",
                ]
            )
        } catch {
            logger.error("Pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
