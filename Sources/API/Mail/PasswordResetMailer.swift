import Auth
package import Foundation
package import Logging
import Models
import ServiceLifecycle
package import Store

/// Handles password-reset requests off the request path: the handler only queues the address and
/// answers 202, so the answer takes the same time whether or not an account has that address.
///
/// For each queued address that belongs to an account, it stores a fresh single-use token (its hash
/// only) valid for one hour and mails the link `PUBLIC_URL/reset-password?token=…`.
package final class PasswordResetMailer: Service {
    /// How long a reset link works.
    package static let tokenLifetime: TimeInterval = 3600

    private let store: Store
    private let mailer: any Mailer
    private let publicURL: String
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let queue: AsyncStream<String>
    private let enqueue: AsyncStream<String>.Continuation

    package init(store: Store, mailer: any Mailer, publicURL: String, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.mailer = mailer
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.now = now
        self.logger = logger
        (queue, enqueue) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(10_000))
    }

    /// Queues a reset for `email`; returns at once.
    package func request(email: String) {
        if case .dropped = enqueue.yield(email) {
            logger.warning("Password-reset queue is full; a request was dropped")
        }
    }

    /// Works through the queue until shutdown, then finishes what is queued.
    package func run() async {
        await withGracefulShutdownHandler {
            for await email in queue {
                await process(email)
            }
        } onGracefulShutdown: {
            self.enqueue.finish()
        }
    }

    private func process(_ email: String) async {
        let (token, hash) = SecretToken.generate(prefix: "pr_")
        let now = now()
        do {
            guard
                let recipient = try await store.createPasswordResetToken(
                    email: email,
                    tokenHash: hash,
                    expiresAt: now.addingTimeInterval(Self.tokenLifetime),
                    now: now
                )
            else { return }
            try await mailer.send(resetMail(to: recipient, token: token))
            logger.info(
                mailer is LoggingMailer ? "Password-reset mail written to the log" : "Password-reset mail sent",
                metadata: ["user": "\(recipient.userID.lowercased)"]
            )
        } catch {
            logger.error("Password-reset mail failed", metadata: ["error": "\(error)"])
        }
    }

    private func resetMail(to recipient: ResetRecipient, token: String) -> MailMessage {
        let link = "\(publicURL)/reset-password?token=\(token)"
        return MailMessage(
            to: recipient.email,
            toName: recipient.displayName,
            subject: "Reset your Parley password",
            text: """
                Hello \(recipient.displayName),

                Someone asked to reset the password of your Parley account. If it was you,
                open this link within one hour to choose a new password:

                \(link)

                The link works once. If you did not ask, ignore this mail: your password
                stays as it is.
                """
        )
    }
}
