import Foundation
import NIOCore
import NIOPosix
package import NIOSSL

/// Where and how to deliver mail over SMTP, read from a URL:
/// `smtp://user:password@host:port` (STARTTLS, which the server must offer), `smtps://…` (TLS
/// from the first byte, port 465 by default), or `smtp+insecure://…` — plain text, credentials and
/// all, for a relay on the same host or a test server, and only when the URL says so.
package struct SMTPConfiguration: Sendable {
    package var host: String
    package var port: Int
    package var username: String?
    package var password: String?
    /// TLS from the first byte (`smtps`) rather than upgrading with STARTTLS.
    package var implicitTLS: Bool
    /// Whether mail may go without TLS (`smtp+insecure`): otherwise a server that does not offer
    /// STARTTLS — or a man in the middle who strips it — gets neither the credentials nor the mail.
    package var allowsPlaintext: Bool
    /// How the server's certificate is checked; the system's trust roots by default.
    package var tls: TLSConfiguration
    /// The name this client gives in EHLO.
    package var clientName: String
    /// The limit on one whole delivery, connection included.
    package var timeout: Duration

    package init(url: String, clientName: String = "localhost") throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["smtp", "smtps", "smtp+insecure"].contains(scheme), let host = components.host, !host.isEmpty
        else { throw SMTPError.invalidURL }
        self.host = host
        self.implicitTLS = scheme == "smtps"
        self.allowsPlaintext = scheme == "smtp+insecure"
        self.port = components.port ?? (implicitTLS ? 465 : 25)
        self.username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.tls = .makeClientConfiguration()
        self.clientName = clientName
        self.timeout = .seconds(30)
    }
}

/// A failed delivery. Its text names the step and the server's reply code, never credentials.
package enum SMTPError: Error, Equatable, CustomStringConvertible {
    case invalidURL
    case unexpectedReply(step: String, code: Int)
    case connectionClosed(step: String)
    case noAuthenticationMechanism
    case tlsRequired
    case timedOut

    package var description: String {
        switch self {
        case .invalidURL: "The SMTP URL must look like smtp://user:password@host:port, smtps://… or smtp+insecure://…"
        case .unexpectedReply(let step, let code): "The SMTP server answered \(code) to \(step)."
        case .connectionClosed(let step): "The SMTP server closed the connection during \(step)."
        case .noAuthenticationMechanism: "The SMTP server offers neither AUTH PLAIN nor AUTH LOGIN."
        case .tlsRequired: "The SMTP server does not offer STARTTLS; nothing was sent. Use smtps://, or smtp+insecure:// to send in plain text."
        case .timedOut: "The SMTP delivery timed out."
        }
    }
}

/// A small SMTP client (RFC 5321) over SwiftNIO: EHLO, STARTTLS when offered, AUTH PLAIN or LOGIN
/// when credentials are given, one message per connection.
package struct SMTPClient: Sendable {
    package let configuration: SMTPConfiguration

    package init(configuration: SMTPConfiguration) {
        self.configuration = configuration
    }

    /// Delivers `message` (a complete RFC 5322 message, headers and body) from `sender` to `recipients`.
    package func send(from sender: String, to recipients: [String], message: String) async throws {
        let timeout = configuration.timeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await deliver(from: sender, to: recipients, message: message) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SMTPError.timedOut
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func deliver(from sender: String, to recipients: [String], message: String) async throws {
        let configuration = configuration
        let sslContext = try NIOSSLContext(configuration: configuration.tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if configuration.implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: configuration.tlsHostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(replies: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.expect("greeting", 220)
            var capabilities = try await session.command("EHLO \(configuration.clientName)", step: "EHLO", 250).capabilities
            var secure = configuration.implicitTLS
            if !secure, capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) {
                try await session.command("STARTTLS", step: "STARTTLS", 220)
                let pipeline = channel.channel.pipeline
                try await channel.channel.eventLoop.submit {
                    let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: configuration.tlsHostname)
                    try pipeline.syncOperations.addHandler(handler, position: .first)
                }.get()
                capabilities = try await session.command("EHLO \(configuration.clientName)", step: "EHLO", 250).capabilities
                secure = true
            }
            guard secure || configuration.allowsPlaintext else { throw SMTPError.tlsRequired }
            if let username = configuration.username {
                try await session.authenticate(
                    username: username,
                    password: configuration.password ?? "",
                    capabilities: capabilities
                )
            }
            try await session.command("MAIL FROM:<\(sender)>", step: "MAIL FROM", 250)
            for recipient in recipients {
                try await session.command("RCPT TO:<\(recipient)>", step: "RCPT TO", 250, 251)
            }
            try await session.command("DATA", step: "DATA", 354)
            try await session.command(Self.dotStuffed(message) + ".", step: "the message", 250)
            _ = try? await session.command("QUIT", step: "QUIT", 221)
        }
    }

    /// The message with CRLF line ends, every line starting with "." doubled (RFC 5321 §4.5.2),
    /// ending in CRLF, ready to be followed by the terminating ".".
    static func dotStuffed(_ message: String) -> String {
        let normalized = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n") + "\r\n"
    }
}

extension SMTPConfiguration {
    var tlsHostname: String? {
        // SNI takes names only, never addresses.
        host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
    }
}

/// One SMTP reply: its code and text lines (one for single-line replies).
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]

    /// The EHLO keywords: every line after the greeting line.
    var capabilities: [String] { Array(lines.dropFirst()) }
}

/// The command/reply exchange of one connection.
private struct SMTPSession {
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    @discardableResult
    mutating func expect(_ step: String, _ codes: Int...) async throws -> SMTPReply {
        guard let reply = try await replies.next() else { throw SMTPError.connectionClosed(step: step) }
        guard codes.contains(reply.code) else { throw SMTPError.unexpectedReply(step: step, code: reply.code) }
        return reply
    }

    @discardableResult
    mutating func command(_ line: String, step: String, _ codes: Int...) async throws -> SMTPReply {
        try await outbound.write(ByteBuffer(string: line + "\r\n"))
        guard let reply = try await replies.next() else { throw SMTPError.connectionClosed(step: step) }
        guard codes.contains(reply.code) else { throw SMTPError.unexpectedReply(step: step, code: reply.code) }
        return reply
    }

    mutating func authenticate(username: String, password: String, capabilities: [String]) async throws {
        let mechanisms = Set(
            capabilities.filter { $0.uppercased().hasPrefix("AUTH") }
                .flatMap { $0.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).dropFirst().map(String.init) }
        )
        if mechanisms.contains("PLAIN") {
            let credentials = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try await command("AUTH PLAIN \(credentials)", step: "AUTH PLAIN", 235)
        } else if mechanisms.contains("LOGIN") {
            try await command("AUTH LOGIN", step: "AUTH LOGIN", 334)
            try await command(Data(username.utf8).base64EncodedString(), step: "AUTH LOGIN", 334)
            try await command(Data(password.utf8).base64EncodedString(), step: "AUTH LOGIN", 235)
        } else {
            throw SMTPError.noAuthenticationMechanism
        }
    }
}

/// Splits the byte stream into replies: lines `NNN-text` continue a reply, `NNN text` ends it.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let lineEnd = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4096 { throw SMTPError.unexpectedReply(step: "a reply line over 4096 bytes", code: 0) }
            return .needMoreData
        }
        var bytes = buffer.readBytes(length: lineEnd - buffer.readerIndex + 1) ?? []
        // Bytes, not Characters: to Swift "\r\n" is one Character, which no `hasSuffix("\n")` matches.
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        guard line.count >= 3, let code = Int(line.prefix(3)) else {
            throw SMTPError.unexpectedReply(step: "reading a reply", code: 0)
        }
        let separator = line.dropFirst(3).first
        lines.append(String(line.dropFirst(4)))
        if separator != "-" {
            context.fireChannelRead(wrapInboundOut(SMTPReply(code: code, lines: lines)))
            lines = []
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
