import Foundation
package import Logging
import Models

/// A plain-text mail to one person.
package struct MailMessage: Sendable, Equatable {
    package var to: String
    package var toName: String?
    package var subject: String
    package var text: String

    package init(to: String, toName: String?, subject: String, text: String) {
        self.to = to
        self.toName = toName
        self.subject = subject
        self.text = text
    }
}

/// Delivers mail.
package protocol Mailer: Sendable {
    func send(_ message: MailMessage) async throws
}

/// Writes each mail to the log instead of sending it — the mode when no SMTP server is configured,
/// so that on a laptop the reset link can be copied from the server's output.
package struct LoggingMailer: Mailer {
    let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    package func send(_ message: MailMessage) async throws {
        logger.notice("Mail to \(message.to), written here instead of sent (no --smtp-url). Subject: \(message.subject)\n\(message.text)")
    }
}

/// Sends mail through an SMTP server.
package struct SMTPMailer: Mailer {
    let client: SMTPClient
    /// The `From` address, `Name <address>` or a bare address.
    let from: String

    package init(client: SMTPClient, from: String) {
        self.client = client
        self.from = from
    }

    package func send(_ message: MailMessage) async throws {
        try await client.send(
            from: Self.address(in: from),
            to: [message.to],
            message: Self.compose(message, from: from, date: Date())
        )
    }

    /// The bare address of `Name <address>`.
    static func address(in mailbox: String) -> String {
        guard let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close else {
            return mailbox.trimmingCharacters(in: .whitespaces)
        }
        return String(mailbox[mailbox.index(after: open)..<close])
    }

    /// The RFC 5322 message: headers, then the body, 7-bit as is or base64 when it is not ASCII.
    static func compose(_ message: MailMessage, from: String, date: Date) -> String {
        let to = message.toName.map { "\(encodedWord($0)) <\(message.to)>" } ?? message.to
        let domain = address(in: from).split(separator: "@").last.map(String.init) ?? "localhost"
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let isASCII = message.text.unicodeScalars.allSatisfy(\.isASCII)
        let body =
            isASCII
            ? message.text
            : Data(message.text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return [
            "From: \(from)",
            "To: \(to)",
            "Subject: \(encodedWord(message.subject))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().lowercased)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(isASCII ? "7bit" : "base64")",
            "",
            body,
        ].joined(separator: "\r\n")
    }

    /// A header value as an RFC 2047 encoded word when it is not plain ASCII.
    static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) { return text }
        return "=?utf-8?B?\(Data(text.utf8).base64EncodedString())?="
    }
}
