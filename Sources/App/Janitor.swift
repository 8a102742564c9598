import Foundation
import Logging
import ServiceLifecycle
import Store

/// Once an hour deletes expired tokens, dead sessions, logged events older than the retention,
/// signing keys replaced more than a day ago, uploads nobody used within a day and unused blobs;
/// frees the names and addresses of accounts deleted longer ago than their grace period; deletes
/// data exports whose links have expired.
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
            let keys = try await store.pruneSigningKeys(replacedBefore: now.addingTimeInterval(-24 * 3600))
            let uploads = try await store.pruneUploads(now: now)
            let released = try await store.releaseDeletedNames(now: now)
            let exports = try await store.pruneExports(now: now)
            logger.debug(
                "Pruned expired rows",
                metadata: [
                    "refreshTokens": "\(report.refreshTokens)",
                    "resetTokens": "\(report.resetTokens)",
                    "sessions": "\(report.sessions)",
                    "events": "\(events)",
                    "signingKeys": "\(keys)",
                    "uploads": "\(uploads)",
                    "releasedNames": "\(released)",
                    "exports": "\(exports)",
                ]
            )
        } catch {
            logger.error("Pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
