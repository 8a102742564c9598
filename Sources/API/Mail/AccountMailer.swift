import Auth
package import Foundation
package import Logging
import Models
import Metrics
import ServiceLifecycle
import Synchronization
package import Store

/// Mails the links that prove control of an address, off the request path: a handler only queues
/// the job and answers, so a password-reset request takes the same time whether or not an account
/// has that address.
///
/// Each link carries a fresh single-use token, stored only as its hash: a password reset
/// (`PUBLIC_URL/reset-password?token=…`, valid for one hour) for a queued address that belongs to
/// an account, an address verification (`PUBLIC_URL/verify-email?token=…`, valid for 24 hours) for
/// a queued user whose address is not verified yet, or for the address a user is moving to (with a
/// notice to the address they are leaving).
package final class AccountMailer: Service {
    /// How long a reset link works.
    package static let resetLifetime: TimeInterval = 3600
    /// How long a verification link works.
    package static let verificationLifetime: TimeInterval = 24 * 3600

    /// One mail to make.
    enum Job: Sendable {
        case passwordReset(email: String)
        case verification(userID: UUID)
        case emailChange(EmailChange, token: String)
        case exportReady(DataExport)
    }

    private let store: Store
    private let mailer: any Mailer
    private let publicURL: String
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let queue: AsyncStream<Job>
    private let enqueue: AsyncStream<Job>.Continuation
    private let waiting = Atomic<Int>(0)
    private static let sent = Counter(label: "parley_mails_sent_total")
    private static let failures = Counter(label: "parley_mail_failures_total")

    package init(store: Store, mailer: any Mailer, publicURL: String, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.mailer = mailer
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.now = now
        self.logger = logger
        (queue, enqueue) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(10_000))
    }

    /// Queues a reset for `email`; returns at once.
    package func requestReset(email: String) {
        queue(.passwordReset(email: email))
    }

    /// Queues a verification link for the user's address (none when it is verified); returns at once.
    package func requestVerification(userID: UUID) {
        queue(.verification(userID: userID))
    }

    /// Stores a link that moves the user to `newEmail` and queues it, with a notice to the current
    /// address; throws what `Store.createEmailChangeToken` throws (the address is taken or theirs).
    package func requestEmailChange(userID: UUID, newEmail: String) async throws {
        let (token, hash) = SecretToken.generate(prefix: "ev_")
        let now = now()
        guard
            let change = try await store.createEmailChangeToken(
                userID: userID, newEmail: newEmail, tokenHash: hash, expiresAt: now.addingTimeInterval(Self.verificationLifetime), now: now
            )
        else { return }
        queue(.emailChange(change, token: token))
    }

    /// Queues the mail that a data export is ready, with its download link.
    package func exportReady(_ export: DataExport) {
        queue(.exportReady(export))
    }

    private func queue(_ job: Job) {
        if case .dropped = enqueue.yield(job) {
            logger.warning("Account mail queue is full; a request was dropped")
        } else {
            waiting.add(1, ordering: .relaxed)
        }
    }

    /// Mails queued and not yet handled, for `/metrics`.
    package var queued: Int { waiting.load(ordering: .relaxed) }

    /// Works through the queue until shutdown, then finishes what is queued.
    package func run() async {
        await withGracefulShutdownHandler {
            for await job in queue {
                await process(job)
                waiting.subtract(1, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            self.enqueue.finish()
        }
    }

    private func process(_ job: Job) async {
        let now = now()
        let what: String
        do {
            let mails: [MailMessage]
            let user: UUID
            switch job {
            case .passwordReset(let email):
                what = "Password-reset mail"
                let (token, hash) = SecretToken.generate(prefix: "pr_")
                guard
                    let recipient = try await store.createPasswordResetToken(
                        email: email, tokenHash: hash, expiresAt: now.addingTimeInterval(Self.resetLifetime), now: now
                    )
                else { return }
                (mails, user) = ([resetMail(to: recipient, token: token)], recipient.userID)
            case .verification(let userID):
                what = "Verification mail"
                let (token, hash) = SecretToken.generate(prefix: "ev_")
                guard
                    let recipient = try await store.createEmailVerificationToken(
                        userID: userID, tokenHash: hash, expiresAt: now.addingTimeInterval(Self.verificationLifetime), now: now
                    )
                else { return }
                (mails, user) = ([verificationMail(to: recipient, token: token)], userID)
            case .emailChange(let change, let token):
                what = "Address-change mail"
                mails = [changeMail(to: change.confirmation, token: token), changeNotice(to: change.notice, newEmail: change.confirmation.email)]
                user = change.confirmation.userID
            case .exportReady(let export):
                what = "Export mail"
                guard let account = try await store.user(id: export.userID), let readyAt = export.readyAt else { return }
                let expiresAt = readyAt.addingTimeInterval(Store.exportLifetime)
                guard let path = store.media.exportURL(export.id, expires: Int64(expiresAt.timeIntervalSince1970)) else { return }
                let recipient = MailRecipient(userID: account.id, email: account.email, displayName: account.displayName)
                (mails, user) = ([exportMail(to: recipient, link: publicURL + path)], account.id)
            }
            for mail in mails { try await mailer.send(mail) }
            Self.sent.increment(by: mails.count)
            logger.info(mailer is LoggingMailer ? "\(what) written to the log" : "\(what) sent", metadata: ["user": "\(user.lowercased)"])
        } catch {
            Self.failures.increment()
            logger.error("Account mail failed", metadata: ["error": "\(error)"])
        }
    }

    private func verificationMail(to recipient: MailRecipient, token: String) -> MailMessage {
        let link = "\(publicURL)/verify-email?token=\(token)"
        return MailMessage(
            to: recipient.email,
            toName: recipient.displayName,
            subject: "Confirm your address for Parley",
            text: """
                Hello \(recipient.displayName),

                Please confirm that this address is yours: open this link within 24 hours.

                \(link)

                The link works once. If you did not sign up for Parley, ignore this mail.
                """
        )
    }

    private func changeMail(to recipient: MailRecipient, token: String) -> MailMessage {
        let link = "\(publicURL)/verify-email?token=\(token)"
        return MailMessage(
            to: recipient.email,
            toName: recipient.displayName,
            subject: "Confirm your new address for Parley",
            text: """
                Hello \(recipient.displayName),

                You asked to move your Parley account to this address. Open this link within
                24 hours to confirm it; until then your account keeps its old address.

                \(link)

                The link works once. If you did not ask, ignore this mail.
                """
        )
    }

    private func changeNotice(to recipient: MailRecipient, newEmail: String) -> MailMessage {
        MailMessage(
            to: recipient.email,
            toName: recipient.displayName,
            subject: "Your Parley address is about to change",
            text: """
                Hello \(recipient.displayName),

                Someone signed in to your Parley account asked to move it from this address to
                \(newEmail). It changes only when the link mailed there is used.

                If it was not you, change your password now and sign out your other sessions:
                whoever asked knows your password.
                """
        )
    }

    private func exportMail(to recipient: MailRecipient, link: String) -> MailMessage {
        MailMessage(
            to: recipient.email,
            toName: recipient.displayName,
            subject: "Your Parley data is ready",
            text: """
                Hello \(recipient.displayName),

                The archive of your Parley data you asked for is ready. Download it within 48 hours:

                \(link)

                Anyone with this link can download it: keep it to yourself.
                """
        )
    }

    private func resetMail(to recipient: MailRecipient, token: String) -> MailMessage {
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
