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
}
