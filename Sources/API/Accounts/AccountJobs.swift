package import Foundation
package import Logging
import Models
import ServiceLifecycle
package import Store

/// Does the account work that outlasts a request, as a service of every node that serves the API:
/// finishing deletions (`DELETE /me` only begins them) and building data exports
/// (`POST /me/export` only queues them), then mailing the export's link.
///
/// Each job is claimed for a lease, so two nodes never work on one; a node that stops halfway
/// leaves it to whichever node claims it when the lease ends, itself after a restart included.
/// Every deletion step is safe to run twice; an export is rebuilt from its start.
package final class AccountJobs: Service, Sendable {
    static let lease: TimeInterval = 60
    /// An archive is built in one go: its lease covers the largest (300,000 messages take ~35 s in
    /// a debug build here).
    static let exportLease: TimeInterval = 600
    static let idlePause: Duration = .seconds(1)

    private let store: Store
    private let mail: AccountMailer
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let ready: AsyncStream<Void>
    private let markReady: AsyncStream<Void>.Continuation

    package init(store: Store, mail: AccountMailer, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.mail = mail
        self.now = now
        self.logger = logger
        (ready, markReady) = AsyncStream.makeStream()
    }

    /// Lets the service start: the schema it reads is in place.
    package func schemaReady() { markReady.finish() }

    package func run() async {
        await cancelWhenGracefulShutdown { [ready] in for await _ in ready {} }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Graceful shutdown cancels a wait (for a database connection); claimed work finishes.
                let deletion = try await cancelWhenGracefulShutdown { [self] in
                    try await store.claimAccountDeletion(now: now(), leaseEnd: now().addingTimeInterval(Self.lease))
                }
                if let deletion {
                    try await handingBack(.accountDeletions, deletion.userID) { try await finish(deletion) }
                    continue
                }
                let export = try await cancelWhenGracefulShutdown { [self] in
                    try await store.claimExport(now: now(), leaseEnd: now().addingTimeInterval(Self.exportLease))
                }
                if let export {
                    let built = try await handingBack(.exports, export.id) { try await store.buildExport(export, now: now()) }
                    mail.exportReady(built)
                    logger.info("Data export built", metadata: ["user": "\(export.userID.lowercased)", "bytes": "\(built.size ?? 0)"])
                    continue
                }
            } catch {
                if !Task.isShuttingDownGracefully { logger.warning("Account job interrupted; it resumes later", metadata: ["error": "\(error)"]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.idlePause) }
        }
    }

    /// Runs `work` on a job claimed from `queue`; when it fails, hands the job back at once, so that
    /// the next poll (of any node) takes it up again instead of the lease holding it for minutes.
    private func handingBack<T>(_ queue: JobQueue, _ id: UUID, _ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch {
            try? await store.reschedule(queue, id, at: now())
            throw error
        }
    }

    /// Runs a deletion's steps until it is complete, or until the node stops (the lease then
    /// hands it on).
    private func finish(_ deletion: AccountDeletion) async throws {
        var leaseEnd = now().addingTimeInterval(Self.lease)
        while try await store.continueAccountDeletion(deletion, now: now()) {
            if Task.isShuttingDownGracefully { return }
            // Half the lease gone: take it again, in full.
            if leaseEnd.timeIntervalSince(now()) < Self.lease / 2 {
                leaseEnd = now().addingTimeInterval(Self.lease)
                try await store.reschedule(.accountDeletions, deletion.userID, at: leaseEnd)
            }
        }
        logger.info("Account deleted", metadata: ["user": "\(deletion.userID.lowercased)"])
    }
}
