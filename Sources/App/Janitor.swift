import Foundation
import Logging
import ServiceLifecycle
import Store

/// Once an hour deletes expired tokens, dead sessions, and logged events older than the retention.
struct Janitor: Service {
    static let interval: Duration = .seconds(3600)

    let store: Store
    let eventRetention: TimeInterval
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
            let now = now()
            let report = try await store.pruneExpired(now: now)
            let events = try await store.pruneEvents(olderThan: now.addingTimeInterval(-eventRetention))
            logger.debug(
                "Pruned expired rows",
                metadata: [
                    "refreshTokens": "\(report.refreshTokens)",
                    "resetTokens": "\(report.resetTokens)",
                    "sessions": "\(report.sessions)",
                    "events": "\(events)",
                ]
            )
        } catch {
            logger.error("Pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
