@testable import API
import Foundation
import ParleyClient
import NIOSSL
import TestSupport
import Testing

/// The SMTP client against a real SMTP server (aiosmtpd).
@Suite("SMTP client", .timeLimit(.minutes(1)))
struct SMTPClientTests {
    static let message = MailMessage(
        to: "alice@example.com",
        toName: "Alice",
        subject: "Dots and ümlauts",
        text: "First line\n.\n..two dots\n.hidden\nGrüße, ☕️\n"
    )

    func withSink(
        credentials: (user: String, password: String)? = nil,
        mechanisms: [String] = ["PLAIN", "LOGIN"],
        tls: Bool = false,
        _ body: (SMTPSink) async throws -> Void
    ) async throws {
        let sink = try await SMTPSink.start(credentials: credentials, mechanisms: mechanisms, tls: tls, requireTLS: tls)
        do {
            try await body(sink)
        } catch {
            await sink.stop()
            throw error
        }
        await sink.stop()
    }

    func mailer(_ url: String, trusting certificate: String? = nil) throws -> SMTPMailer {
        var configuration = try SMTPConfiguration(url: url)
        configuration.timeout = .seconds(10)
        if let certificate { configuration.tls.additionalTrustRoots = [.file(certificate)] }
        return SMTPMailer(client: SMTPClient(configuration: configuration), from: "Parley <noreply@example.com>")
    }

    @Test("A message arrives intact: dot-stuffed lines, non-ASCII text and subject")
    func deliversIntact() async throws {
        try await withSink { sink in
            try await mailer(sink.url).send(Self.message)
            let received = try #require(try await sink.waitForMessages(1).first)
            #expect(received.from == "noreply@example.com")
            #expect(received.to == ["alice@example.com"])
            #expect(received.subject == "Dots and ümlauts")
            #expect(received.text == Self.message.text)
            #expect(!received.tls)
        }
    }

    @Test("AUTH with the URL's credentials; a wrong password is refused", arguments: ["PLAIN", "LOGIN"])
    func authenticates(mechanism: String) async throws {
        try await withSink(credentials: ("mailer", "s3cret"), mechanisms: [mechanism]) { sink in
            let wrong = sink.url.replacingOccurrences(of: "s3cret", with: "wrong")
            await #expect(throws: SMTPError.unexpectedReply(step: "AUTH \(mechanism)", code: 535)) {
                try await mailer(wrong).send(Self.message)
            }
            try await mailer(sink.url).send(Self.message)
            let received = try await sink.waitForMessages(1)
            #expect(received.count == 1)
            #expect(received[0].auth)
        }
    }

    @Test("STARTTLS when offered, verifying the server's certificate")
    func upgradesToTLS() async throws {
        try await withSink(credentials: ("mailer", "secret"), tls: true) { sink in
            // Untrusted certificate: the delivery fails rather than falling back to plain text.
            await #expect(throws: (any Error).self) { try await mailer(sink.url).send(Self.message) }
            try await mailer(sink.url, trusting: sink.certificatePath).send(Self.message)
            let received = try #require(try await sink.waitForMessages(1).first)
            #expect(received.tls)
            #expect(received.auth)
        }
    }

    @Test("Without STARTTLS, smtp:// sends neither the credentials nor the mail; smtp+insecure:// says to")
    func refusesPlaintextUnlessTold() async throws {
        try await withSink(credentials: ("mailer", "s3cret")) { sink in
            // The server offers AUTH on a plain connection, as one whose STARTTLS was stripped would.
            await #expect(throws: SMTPError.tlsRequired) { try await mailer(sink.url(scheme: "smtp")).send(Self.message) }
            #expect(try sink.messages().isEmpty)
            try await mailer(sink.url(scheme: "smtp+insecure")).send(Self.message)
            let received = try await sink.waitForMessages(1)
            #expect(received.count == 1 && received[0].auth && !received[0].tls)
        }
    }

    @Test("A server that is not there fails the delivery promptly")
    func unreachableServer() async throws {
        await #expect(throws: (any Error).self) {
            try await mailer("smtp://127.0.0.1:1").send(Self.message)
        }
    }

    @Test("Lines starting with a dot are doubled and every line ends in CRLF")
    func dotStuffing() {
        #expect(SMTPClient.dotStuffed("a\n.b\n..\nc") == "a\r\n..b\r\n...\r\nc\r\n")
        #expect(SMTPClient.dotStuffed("x\r\n.\r\n") == "x\r\n..\r\n")
    }
}
