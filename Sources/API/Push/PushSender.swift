import AsyncHTTPClient
import Crypto
import Models
package import Foundation
package import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ServiceLifecycle
package import Store
import Synchronization

/// Sends the queued pushes (`push_outbox`) to the browsers' push services, as a service of every
/// node that serves the API. Each push is leased before it is tried, so two nodes never send one
/// twice; a 404 or 410 deletes the subscription; a 429, a 5xx or a network failure tries again
/// later (1, 2, 4, 8 s…, 5 attempts at most); a push that cannot succeed (a 4xx) is dropped. A
/// stopping node finishes what it is sending; what waits stays queued for the next start.
package final class PushSender: Service, Sendable {
    static let maxAttempts = 5
    static let lease: TimeInterval = 60

    private let store: Store
    private let policy: PushEndpointPolicy
    private let contact: String
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let key = Mutex<P256.Signing.PrivateKey?>(nil)

    /// - Parameters:
    ///   - contact: the VAPID `sub`: a `mailto:` address push services may write to.
    ///   - allowLoopback: also send to `http://` loopback endpoints (tests).
    package init(store: Store, contact: String, allowLoopback: Bool, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.policy = PushEndpointPolicy(allowLoopback: allowLoopback)
        self.contact = contact
        self.now = now
        self.logger = logger
    }

    /// Loads the VAPID key every node signs with; the first node to start makes it.
    package func loadKey() async throws {
        let raw = try await store.loadSecret("vapid", making: { P256.Signing.PrivateKey().rawRepresentation.base64EncodedString() })
        guard let data = Data(base64Encoded: raw) else { throw WebPushError.badSubscriptionKeys }
        let loaded = try P256.Signing.PrivateKey(rawRepresentation: data)
        key.withLock { $0 = loaded }
    }

    /// The VAPID public key, base64url of its uncompressed point: a page's `applicationServerKey`.
    package var publicKey: String? { key.withLock { $0?.publicKey.x963Representation.base64URLEncodedString() } }

    /// Checks a subscription's endpoint; see `PushEndpointPolicy`.
    func checkEndpoint(_ raw: String) throws(Problem) -> URL { try policy.check(raw) }

    package func run() async throws {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(15))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // The key is loaded once the schema is migrated: until then there is no queue to read.
            guard publicKey != nil else {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
                continue
            }
            // Graceful shutdown cancels a wait (for a database connection, or a pause); pushes already
            // claimed are delivered first, within the client's timeouts.
            let jobs: [PushJob]
            do {
                jobs = try await cancelWhenGracefulShutdown { [self] in
                    try await store.claimPushJobs(limit: 16, now: now(), leaseEnd: now().addingTimeInterval(Self.lease))
                }
            } catch {
                if !Task.isShuttingDownGracefully { logger.warning("Push queue unreadable", metadata: ["error": "\(error)"]) }
                jobs = []
            }
            if jobs.isEmpty {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                for job in jobs { group.addTask { await self.deliver(job, with: client) } }
            }
        }
        try await client.shutdown()
    }

    private func deliver(_ job: PushJob, with client: HTTPClient) async {
        let host = URL(string: job.endpoint)?.host ?? "?"
        do {
            guard let key = key.withLock({ $0 }) else { throw WebPushError.badSubscriptionKeys }
            // Checked again at each send: the name may resolve elsewhere than when it subscribed.
            let endpoint = try checkEndpoint(job.endpoint)
            let message = try WebPushMessage(
                payload: Data(job.payload.utf8), p256dh: job.p256dh, auth: job.auth, endpoint: endpoint, vapidKey: key, contact: contact, now: now()
            )
            var request = HTTPClientRequest(url: job.endpoint)
            request.method = .POST
            request.headers.add(name: "Authorization", value: message.authorization)
            request.headers.add(name: "TTL", value: "86400")
            request.headers.add(name: "Urgency", value: "normal")
            request.headers.add(name: "Content-Encoding", value: "aes128gcm")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: message.body))
            let response = try await client.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300:
                Self.sent.increment()
                try await store.finishPushJob(job.id)
            case 404, 410:
                logger.info("Push subscription gone; deleted", metadata: ["host": "\(host)", "status": "\(response.status.code)"])
                try await store.dropPushSubscription(job.subscriptionID)
            case 429, 500..<600:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
                try await retry(job, after: retryAfter, reason: "status \(response.status.code)", host: host)
            default:
                logger.warning("Push refused; dropped", metadata: ["host": "\(host)", "status": "\(response.status.code)"])
                try await store.finishPushJob(job.id)
            }
        } catch let problem as Problem where problem.code != .unavailable {
            logger.warning("Push endpoint no longer allowed; dropped", metadata: ["host": "\(host)", "detail": "\(problem.detail ?? "")"])
            try? await store.finishPushJob(job.id)
        } catch WebPushError.badSubscriptionKeys, WebPushError.badEndpoint, WebPushError.payloadTooLarge {
            logger.warning("Push cannot be made; dropped", metadata: ["host": "\(host)"])
            try? await store.finishPushJob(job.id)
        } catch {
            try? await retry(job, after: nil, reason: "\(type(of: error))", host: host)
        }
    }

    private static let sent = Counter(label: "parley_pushes_sent_total")
    /// Attempts that failed and are retried (or dropped after the last).
    private static let failures = Counter(label: "parley_push_failures_total")

    private func retry(_ job: PushJob, after retryAfter: TimeInterval?, reason: String, host: String) async throws {
        Self.failures.increment()
        guard job.attempts < Self.maxAttempts else {
            logger.warning("Push failed \(job.attempts) times; dropped", metadata: ["host": "\(host)", "reason": "\(reason)"])
            try await store.finishPushJob(job.id)
            return
        }
        let backoff = retryAfter ?? min(300, pow(2, Double(job.attempts - 1)))
        try await store.reschedule(.pushes, job.id, at: now().addingTimeInterval(backoff))
    }
}
