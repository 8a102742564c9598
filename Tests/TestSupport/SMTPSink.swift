package import Foundation
import Synchronization

/// A real SMTP server (aiosmtpd, from `Tests/Fixtures/smtp_sink.py`) that keeps every message it accepts.
package struct SMTPSink: Sendable {
    /// One accepted message.
    package struct Message: Decodable, Sendable {
        package var from: String
        package var to: [String]
        package var subject: String
        /// The decoded text body.
        package var text: String
        /// The message as received, after SMTP un-stuffing.
        package var raw: String
        /// Whether it came over TLS.
        package var tls: Bool
        /// Whether the client authenticated.
        package var auth: Bool
    }

    /// Credentials the server requires, if any.
    package var credentials: (user: String, password: String)?
    package let port: Int
    package let directory: String
    let process: ChildProcess

    /// Whether the server offers STARTTLS.
    package let tls: Bool

    /// A URL for this server, with its credentials: `smtp://` when it offers STARTTLS, else
    /// `smtp+insecure://`, since Parley sends in plain text only when told so.
    package var url: String { url(scheme: tls ? "smtp" : "smtp+insecure") }

    /// A URL with `scheme`, with the credentials.
    package func url(scheme: String) -> String {
        if let credentials {
            return "\(scheme)://\(credentials.user):\(credentials.password)@127.0.0.1:\(port)"
        }
        return "\(scheme)://127.0.0.1:\(port)"
    }

    /// The certificate it presents when started with TLS.
    package var certificatePath: String { "\(directory)/cert.pem" }

    /// Starts a server; `credentials` makes it require AUTH with one of `mechanisms`; `tls` offers STARTTLS with a fresh self-signed certificate for 127.0.0.1 and localhost.
    package static func start(
        credentials: (user: String, password: String)? = nil,
        mechanisms: [String] = ["PLAIN", "LOGIN"],
        tls: Bool = false,
        requireTLS: Bool = false
    ) async throws -> SMTPSink {
        let directory = try Repository.temporaryDirectory("parley-smtp")
        var arguments = [Repository.fixture("smtp_sink.py"), "--dir", directory]
        if let credentials {
            arguments += ["--auth", "\(credentials.user):\(credentials.password)", "--mechanisms", mechanisms.joined(separator: ",")]
        }
        if tls {
            try await makeCertificate(in: directory)
            arguments += ["--tls", "\(directory)/cert.pem", "\(directory)/key.pem"]
            if requireTLS { arguments.append("--require-tls") }
        }
        let process = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3"] + arguments, logPath: "\(directory)/server.log")
        let port = try await eventually(timeout: .seconds(20), "the SMTP sink to listen") { () -> Int? in
            if await !process.isRunning { throw TestSetupError("smtp_sink.py exited: \(process.output())") }
            return (try? String(contentsOfFile: "\(directory)/port", encoding: .utf8)).flatMap(Int.init)
        }
        return SMTPSink(credentials: credentials, port: port, directory: directory, process: process, tls: tls)
    }

    /// The messages accepted so far with this subject (any, when nil), oldest first.
    package func messages(subject: String? = nil) throws -> [Message] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("message-") && $0.hasSuffix(".json") }
            .sorted { Int($0.dropFirst(8).dropLast(5)) ?? 0 < Int($1.dropFirst(8).dropLast(5)) ?? 0 }
        return try names.map { try JSONDecoder().decode(Message.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\($0)"))) }
            .filter { subject == nil || $0.subject == subject }
    }

    /// Waits until at least `count` messages (with this subject, when given) have arrived.
    package func waitForMessages(_ count: Int = 1, subject: String? = nil, timeout: Duration = .seconds(15)) async throws -> [Message] {
        try await eventually(timeout: timeout, "\(count) mail(s)") {
            let messages = try messages(subject: subject)
            return messages.count >= count ? messages : nil
        }
    }

    /// Stops the server and removes its folder.
    package func stop() async {
        await process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func makeCertificate(in directory: String) async throws {
        let (status, output) = try await run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        guard status == 0 else { throw TestSetupError("openssl could not make a certificate: \(output)") }
    }
}

/// A wall clock that tests move by hand.
package final class TestClock: Sendable {
    private let current: Mutex<Date>

    package init(_ start: Date = Date()) {
        current = Mutex(start)
    }

    /// The current time.
    package var now: Date { current.withLock { $0 } }

    /// Moves the clock forward.
    package func advance(by interval: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(interval) }
    }
}
