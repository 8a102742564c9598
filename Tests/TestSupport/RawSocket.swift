import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for tests that must misbehave below HTTP: send half a
/// request, stall, and see what the server does.
package final class RawSocket: @unchecked Sendable {
    // A file descriptor, used by one test at a time.
    private let descriptor: Int32

    package init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSetupError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestSetupError("connect() failed")
        }
    }

    deinit { close(descriptor) }

    /// Sends `text`; throws once the peer has closed.
    package func send(_ text: String) throws {
        let sent = text.utf8CString.withUnsafeBufferPointer { buffer in
            Glibc.send(descriptor, buffer.baseAddress, buffer.count - 1, Int32(MSG_NOSIGNAL))
        }
        guard sent >= 0 else { throw TestSetupError("the peer closed") }
    }

    /// Sends `bytes`; throws once the peer has closed.
    package func send(bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent >= 0 else { throw TestSetupError("the peer closed") }
    }

    /// Whether the peer has closed its end (a read would return end-of-file now).
    package func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let read = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return read == 0
    }

    /// What the peer sends until it closes or `timeout` passes.
    package func receive(timeout: Duration) throws -> String {
        var interval = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer.prefix(count)
            if let text = String(bytes: data, encoding: .utf8), text.contains("\r\n\r\n") { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Every byte the peer sends until it closes or `timeout` passes.
    package func receiveAll(timeout: Duration) -> [UInt8] {
        var interval = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer.prefix(count)
        }
        return data
    }
}

/// A WebSocket upgrade done by hand, for connections the server ends at once: the client library
/// can miss a close frame that follows the `101` immediately, so these are read off the socket.
package enum RawWebSocket {
    /// What the server answered an upgrade of `/api/v1/realtime` with `headers`: its status line,
    /// the frames it sent (opcode and payload) until it closed, and the close code.
    /// Reads on a thread of its own: the socket blocks until the server closes it.
    /// `frames` (opcode and payload, sent masked as a client must) follow the request at once.
    package static func upgrade(port: Int, headers: [String: String] = [:], then frames: [(opcode: UInt8, payload: [UInt8])] = []) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try upgradeBlocking(port: port, headers: headers, frames: frames) }) }.start()
        }
    }

    /// Added to an opcode, sends the frame as a fragment that more must follow (FIN unset).
    package static let notFinal: UInt8 = 0x10

    /// A client frame: masked, of a payload under 64 KiB; final unless its opcode has `notFinal`.
    static func masked(opcode: UInt8, payload: [UInt8]) -> [UInt8] {
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var frame: [UInt8] = [opcode & notFinal == 0 ? 0x80 | opcode : opcode & 0x0F]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        return frame + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// The status line, the frames until the close (opcode and payload), and the close code.
    package typealias Answer = (status: String, frames: [(opcode: UInt8, payload: [UInt8])], closeCode: Int?)

    private static func upgradeBlocking(port: Int, headers: [String: String], frames outgoing: [(opcode: UInt8, payload: [UInt8])]) throws -> Answer {
        let socket = try RawSocket(port: port)
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        try socket.send(
            "GET /api/v1/realtime HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
        )
        for frame in outgoing { try socket.send(bytes: masked(opcode: frame.opcode, payload: frame.payload)) }
        let bytes = socket.receiveAll(timeout: .seconds(10))
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            return (String(decoding: bytes, as: UTF8.self), [], nil)
        }
        let status = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
        var frames: [(opcode: UInt8, payload: [UInt8])] = []
        var index = end + 4
        // Server frames are unmasked: opcode, length (7 bits, or 16 / 64 more), payload.
        while index + 2 <= bytes.count {
            let opcode = bytes[index] & 0x0F
            var length = Int(bytes[index + 1] & 0x7F)
            index += 2
            if length == 126, index + 2 <= bytes.count {
                length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                index += 2
            } else if length == 127, index + 8 <= bytes.count {
                length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[index + $1]) }
                index += 8
            }
            guard index + length <= bytes.count else { break }
            frames.append((opcode, Array(bytes[index..<index + length])))
            index += length
        }
        let close = frames.first { $0.opcode == 0x8 }.flatMap { $0.payload.count >= 2 ? Int($0.payload[0]) << 8 | Int($0.payload[1]) : nil }
        return (status, frames, close)
    }
}
