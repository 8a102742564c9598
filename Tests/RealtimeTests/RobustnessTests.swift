import Foundation
import TestSupport
import Testing
import App
import Realtime

@Suite("Realtime robustness", .timeLimit(.minutes(3)))
struct RobustnessTests {
    @Test("Bad frames get error frames; a flood of them closes with 1008", arguments: TestBackend.all)
    func badFrames(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let client = try await running.http.connect(alice)
            client.send(text: "not json")
            #expect(try await client.next("error").code == "invalid_frame")
            client.send(["type": "dance", "id": "d"])
            #expect(try await client.next(where: { $0.id == "d" }).code == "unknown_type")
            client.send(["type": "message.send", "id": "m"])
            #expect(try await client.next(where: { $0.id == "m" }).code == "validation_failed")
            client.send(["type": "read", "id": "r", "conversationId": UUID().uuidString, "seq": 1])
            #expect(try await client.next(where: { $0.id == "r" }).code == "not_found")
            #expect(!client.closed)
            for _ in 0..<12 { client.send(text: "{") }
            let code = try await client.waitForClose()
            #expect(code == 1008)
        }
    }

    @Test("A frame over the size limit closes with 1009", arguments: TestBackend.all)
    func oversizedFrames(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let client = try await running.http.connect(alice)
            client.send(["type": "ping", "id": String(repeating: "x", count: 70_000)])
            let code = try await client.waitForClose()
            #expect(code == 1009)
        }
    }

    @Test("Frames beyond the rate limit are refused, not served, and the refusal echoes their id", arguments: TestBackend.all)
    func rateLimit(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let client = try await running.http.connect(alice)
            for n in 0..<45 { client.send(["type": "ping", "id": "\(n)"]) }
            try await eventually("45 answers") { client.frames.filter { $0.type == "pong" || $0.type == "error" }.count >= 45 ? true : nil }
            let limited = client.frames.filter { $0.code == "rate_limited" }
            #expect(limited.count >= 1 && limited.count <= 10)
            // Each refusal names the frame it refused, and no frame is answered twice.
            #expect(limited.allSatisfy { $0.id != nil })
            let answered = client.frames.filter { $0.type == "pong" || $0.type == "error" }.compactMap(\.id)
            #expect(Set(answered).count == answered.count && Set(answered) == Set((0..<45).map(String.init)))
            #expect(!client.closed)
            client.cancel()
        }
    }

    @Test("A client that stops reading is dropped without slowing the others, who get every event", arguments: TestBackend.all)
    func slowConsumer(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.realtime.maxQueuedFrames = 50 }) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let stalled = try await StalledSocket.open(port: running.port, token: bob.accessToken)
            let reader = try await http.connect(bob)
            let body = String(repeating: "flood ", count: 600)
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for sender in 0..<4 {
                    senders.addTask {
                        for n in 0..<300 { try await http.send(body, to: group, as: alice, clientMessageID: "\(sender)-\(n)") }
                    }
                }
                try await senders.waitForAll()
            }
            try await eventually(timeout: .seconds(30), "every message at the reading client") {
                reader.events.filter { $0.type == "message.created" }.count == 1200 ? true : nil
            }
            #expect(try await stalled.closedByServer(timeout: .seconds(30)))
            reader.cancel()
        }
    }

    @Test("Graceful shutdown closes every socket with 1001", arguments: TestBackend.all)
    func gracefulShutdown(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let clients = try await [running.http.connect(alice), running.http.connect(alice)]
            await running.server.shutdown()
            for client in clients {
                let code = try await client.waitForClose()
                #expect(code == 1001)
            }
        }
    }
}

/// A WebSocket that completes the upgrade and then never reads, with a tiny receive buffer.
/// The socket is non-blocking and waits by sleeping, so it never holds a thread of the shared pool.
final class StalledSocket: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    static func open(port: Int, token: String) async throws -> StalledSocket {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let stalled = StalledSocket(descriptor: descriptor)
        var size: Int32 = 2048
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSetupError("connect failed") }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let request = [
            "GET /api/v1/realtime HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", "Authorization: Bearer \(token)", "", "",
        ].joined(separator: "\r\n")
        _ = request.withCString { send(descriptor, $0, strlen($0), 0) }
        // Read the 101 byte by byte, so nothing after it is consumed, and stop there.
        var response = [UInt8]()
        try await eventually(timeout: .seconds(10), "the upgrade response") { () -> Bool? in
            var byte: UInt8 = 0
            while !response.suffix(4).elementsEqual([13, 10, 13, 10]) {
                let count = recv(descriptor, &byte, 1, 0)
                if count == 1 {
                    response.append(byte)
                } else if count == 0 {
                    throw TestSetupError("closed during the upgrade")
                } else {
                    return nil
                }
            }
            return true
        }
        guard String(decoding: response, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { throw TestSetupError("not upgraded") }
        return stalled
    }

    /// Drains what the server sent and reports whether it then closed the connection.
    func closedByServer(timeout: Duration) async throws -> Bool {
        let descriptor = descriptor
        let closed = try? await eventually(timeout: timeout, every: .milliseconds(50), "the server to close") { () -> Bool? in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count == 0 { return true }
                if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? nil : true }
            }
        }
        return closed == true
    }

    deinit { close(descriptor) }
}
