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

    /// A seeded generator (SplitMix64), so that a failing run can be replayed with its seed.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One random client frame: junk text, JSON of a known or unknown type with values of the wrong
    /// shape (huge numbers, deep nesting, long strings, nulls), or a binary frame.
    static func randomFrame(_ random: inout SeededRandom) -> RealtimeClient.Outgoing {
        func value(_ depth: Int = 0) -> String {
            switch Int.random(in: 0..<9, using: &random) {
            case 0: return "1e999"
            case 1: return "-9223372036854775809"
            case 2: return "\"" + String(repeating: "é", count: Int.random(in: 0..<3000, using: &random)) + "\""
            case 3: return "null"
            case 4: return "true"
            case 5: return depth < 3 ? "[" + (0..<3).map { _ in value(depth + 1) }.joined(separator: ",") + "]" : "[]"
            case 6: return depth < 3 ? "{\"a\":" + value(depth + 1) + "}" : "{}"
            case 7: return "\"" + UUID().uuidString + "\""
            default: return String(Int.random(in: Int.min...Int.max, using: &random))
            }
        }
        let types = ["auth", "message.send", "typing", "read", "presence", "ping", "resume", "🙂", ""]
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return .text(String((0..<Int.random(in: 1..<200, using: &random)).map { _ in Character(UnicodeScalar(UInt8.random(in: 32...126, using: &random))) }))
        case 1:
            let depth = Int.random(in: 100..<20_000, using: &random)
            return .text(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        case 2: return .binary(Data((0..<Int.random(in: 0..<512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }))
        default:
            let type = types.randomElement(using: &random)!
            let fields = ["id", "conversationId", "body", "clientMessageId", "seq", "status", "token", "streams", "attachments", "replyTo"]
                .filter { _ in Bool.random(using: &random) }
                .map { "\"\($0)\":" + value() }
            return .text("{\"type\":\"\(type)\"" + fields.map { "," + $0 }.joined() + "}")
        }
    }

    @Test("Random and malformed frames from a fixed seed get error frames or a documented close; the server stays up and others miss nothing", arguments: TestBackend.all)
    func randomFrames(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let mallory = try await http.register("mallory")
            let group = try await http.group(alice, members: [mallory])
            let bystander = try await http.connect(alice)
            let seed = UInt64(ProcessInfo.processInfo.environment["REALTIME_FUZZ_SEED"] ?? "") ?? 20261207
            var random = SeededRandom(state: seed)
            var closes: [Int] = []
            var answers = 0
            var sent = 0
            while sent < 300 {
                let attacker = try await http.connect(mallory)
                while sent < 300, !attacker.closed {
                    attacker.send(Self.randomFrame(&random))
                    sent += 1
                    if sent.isMultiple(of: 25) { try await http.send("during \(sent)", to: group, as: alice) }
                    try await Task.sleep(for: .milliseconds(5))
                }
                if let code = try? await attacker.waitForClose(timeout: .seconds(5)) { closes.append(code) }
                answers += attacker.frames.filter { $0.type == "error" || $0.type == "pong" || $0.type == "ack" }.count
                attacker.cancel()
            }
            // Every close was one the protocol documents for bad frames; most frames were answered.
            #expect(!closes.isEmpty && closes.allSatisfy { [1008, 1009].contains($0) }, "seed \(seed): \(closes)")
            #expect(answers > 0, "seed \(seed)")
            // The other connection got every message sent meanwhile, in order, and the server still answers.
            let expected = stride(from: 25, through: 300, by: 25).map { "during \($0)" }
            try await eventually("every message at the bystander") {
                bystander.events.filter { $0.type == "message.created" }.compactMap { $0.data["body"] as? String } == expected ? true : nil
            }
            #expect(!bystander.closed)
            #expect(try await http.request("GET", "/readyz").status == 200)
            bystander.cancel()
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

    @Test("A text frame that is not UTF-8 closes with 1007; the server stays ready", arguments: TestBackend.all)
    func invalidUTF8(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            // "(" after a lead byte that promises a second one: not UTF-8.
            let answer = try await RawWebSocket.upgrade(
                port: running.port, headers: ["Authorization": "Bearer \(alice.accessToken)"], then: [(opcode: 0x1, payload: [0x7B, 0xC3, 0x28, 0x7D])]
            )
            #expect(answer.status.contains("101"))
            #expect(answer.closeCode == 1007)
            #expect(try await running.http.request("GET", "/readyz").status == 200)
        }
    }

    @Test("Fragmented frames are put together; a client that leaves the server's ping unanswered is dropped", arguments: TestBackend.all)
    func fragmentsAndPings(backend: TestBackend) async throws {
        try await withRealtime(backend, configure: { $0.realtime.pingInterval = .milliseconds(300) }) { running in
            let alice = try await running.http.register("alice")
            let auth = Array("{\"type\":\"auth\",\"token\":\"\(alice.accessToken)\"}".utf8)
            let ping = Array("{\"type\":\"ping\",\"id\":\"in three parts\"}".utf8)
            let started = ContinuousClock.now
            let answer = try await RawWebSocket.upgrade(
                port: running.port,
                then: [
                    (opcode: 0x1 | RawWebSocket.notFinal, payload: Array(auth[..<10])),
                    (opcode: 0x0, payload: Array(auth[10...])),
                    (opcode: 0x1 | RawWebSocket.notFinal, payload: Array(ping[..<5])),
                    (opcode: 0x0 | RawWebSocket.notFinal, payload: Array(ping[5..<20])),
                    (opcode: 0x0, payload: Array(ping[20...])),
                ]
            )
            let texts = answer.frames.filter { $0.opcode == 0x1 }.map { String(decoding: $0.payload, as: UTF8.self) }
            #expect(texts.first?.contains("\"type\":\"hello\"") == true, "\(texts)")
            #expect(texts.contains { $0.contains("\"pong\"") && $0.contains("in three parts") }, "\(texts)")
            // Pinged, never answered: the server closed the socket well before the reader's own 10-s limit.
            #expect(answer.frames.contains { $0.opcode == 0x9 })
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test("A client that answers pings stays connected and gets its events", arguments: TestBackend.all)
    func answeredPings(backend: TestBackend) async throws {
        // An interval long enough for a pong on a loaded machine (the client answers on its own
        // event loop), short enough for several pings within the test.
        try await withRealtime(backend, configure: { $0.realtime.pingInterval = .milliseconds(700) }) { running in
            let http = running.http
            let alice = try await http.register("alice")
            let bob = try await http.register("bob")
            let group = try await http.group(alice, members: [bob])
            let client = try await http.connect(bob)
            try await Task.sleep(for: .seconds(3))
            try await http.send("after four pings", to: group, as: alice)
            try await eventually("the message") {
                client.events.contains { $0.data["body"] as? String == "after four pings" } ? true : nil
            }
            #expect(!client.closed)
            client.cancel()
        }
    }

    @Test("A fragment with nothing to continue closes with 1002", arguments: TestBackend.all)
    func strayContinuation(backend: TestBackend) async throws {
        try await withRealtime(backend) { running in
            let alice = try await running.http.register("alice")
            let answer = try await RawWebSocket.upgrade(
                port: running.port, headers: ["Authorization": "Bearer \(alice.accessToken)"], then: [(opcode: 0x0, payload: Array("{}".utf8))]
            )
            #expect(answer.status.contains("101"))
            #expect(answer.closeCode == 1002)
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
