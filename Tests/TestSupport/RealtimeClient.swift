package import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// A WebSocket client of the realtime service for tests: frames come in as JSON objects, in order,
/// and the close code the server sent is kept.
package final class RealtimeClient: Sendable {
    /// A frame as the server sent it, with its raw text.
    package struct Frame: Sendable, CustomStringConvertible {
        package let text: String
        package var object: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
        }
        package var type: String? { object["type"] as? String }
        package var stream: String? { object["stream"] as? String }
        package var seq: Int64? { (object["seq"] as? NSNumber)?.int64Value }
        package var id: String? { object["id"] as? String }
        package var code: String? { object["code"] as? String }
        package var data: [String: Any] { (object["data"] as? [String: Any]) ?? [:] }
        package var description: String { text }
    }

    private struct State {
        var frames: [Frame] = []
        var closeCode: Int?
        var closed = false
    }

    /// Shared between the connection task and the test.
    private final class StateBox: Sendable {
        let state = Mutex(State())
        func append(_ frame: Frame) { state.withLock { $0.frames.append(frame) } }
        func finish(closeCode: Int?) {
            state.withLock {
                $0.closeCode = closeCode
                $0.closed = true
            }
        }
    }

    private let box = StateBox()
    /// A frame to send.
    package enum Outgoing: Sendable {
        case text(String)
        case binary(Data)
        case close
    }

    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let task: Task<Void, Never>

    /// Connects to `ws://127.0.0.1:port/api/v1/realtime`, with `Authorization: Bearer token` when given.
    package init(port: Int, token: String?, maxFrameSize: Int = 1 << 20) {
        let (outgoingFrames, outgoing) = AsyncStream<Outgoing>.makeStream()
        self.outgoing = outgoing
        var configuration = WebSocketClientConfiguration(maxFrameSize: maxFrameSize)
        if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        let logger = Logger(label: "realtime-client")
        let stateBox = box
        self.task = Task {
            let close = try? await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/api/v1/realtime",
                configuration: configuration,
                logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in outgoingFrames {
                            switch frame {
                            case .text(let text): try await outbound.write(.text(text))
                            case .binary(let data): try await outbound.write(.binary(ByteBuffer(bytes: data)))
                            case .close:
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        if case .text(let text) = message { stateBox.append(Frame(text: text)) }
                    }
                    group.cancelAll()
                }
            }
            stateBox.finish(closeCode: close.map { Int(Self.number(of: $0.closeCode)) })
        }
    }

    /// Sends a frame given as a JSON object.
    package func send(_ object: [String: any Sendable]) {
        outgoing.yield(.text(String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)))
    }

    /// Sends raw text.
    package func send(text: String) {
        outgoing.yield(.text(text))
    }

    /// Sends any frame, binary ones included.
    package func send(_ frame: Outgoing) {
        outgoing.yield(frame)
    }

    /// Closes from the client side.
    package func close() {
        outgoing.yield(.close)
    }

    /// Every frame received so far.
    package var frames: [Frame] { box.state.withLock { $0.frames } }

    /// Whether the server closed (or the connection broke), and with which code.
    package var closed: Bool { box.state.withLock { $0.closed } }
    package var closeCode: Int? { box.state.withLock { $0.closeCode } }

    /// Waits for the first frame after the first `skip` frames that matches, and returns it.
    @discardableResult
    package func next(
        where predicate: @escaping @Sendable (Frame) -> Bool = { _ in true },
        after skip: Int = 0,
        timeout: Duration = .seconds(10)
    ) async throws -> Frame {
        try await eventually(timeout: timeout, "a frame") { () -> Frame? in
            let frames = self.frames.dropFirst(skip)
            if let frame = frames.first(where: predicate) { return frame }
            if self.closed { throw TestSetupError("closed with \(self.closeCode.map(String.init) ?? "no code") before the frame came; got \(Array(frames))") }
            return nil
        }
    }

    /// Waits for a frame of `type`.
    @discardableResult
    package func next(_ type: String, timeout: Duration = .seconds(10)) async throws -> Frame {
        try await next(where: { $0.type == type }, timeout: timeout)
    }

    /// Waits for the server to close and returns its close code.
    package func waitForClose(timeout: Duration = .seconds(15)) async throws -> Int? {
        try await eventually(timeout: timeout, "the connection to close") { self.closed ? true : nil }
        return closeCode
    }

    /// Stops the connection task.
    package func cancel() {
        outgoing.finish()
        task.cancel()
    }

    private static func number(of code: WebSocketErrorCode) -> UInt16 {
        switch code {
        case .normalClosure: 1000
        case .goingAway: 1001
        case .protocolError: 1002
        case .unacceptableData: 1003
        case .dataInconsistentWithMessage: 1007
        case .policyViolation: 1008
        case .messageTooLarge: 1009
        case .missingExtension: 1010
        case .unexpectedServerError: 1011
        case .unknown(let code): code
        }
    }
}

extension HTTP {
    /// A realtime connection for `account`, past `hello` and an empty `resume`.
    package func connect(_ account: Account, resume cursors: [String: Int64]? = [:], timeout: Duration = .seconds(10)) async throws -> RealtimeClient {
        let client = RealtimeClient(port: port, token: account.accessToken)
        try await client.next("hello", timeout: timeout)
        if let cursors {
            client.send(["type": "resume", "id": "resume", "cursors": cursors])
            try await client.next("resumed", timeout: timeout)
        }
        return client
    }
}

extension RealtimeClient {
    /// The logged events received so far, in order.
    package var events: [Frame] { frames.filter { $0.seq != nil } }

    /// The last seq received per stream.
    package var cursors: [String: Int64] {
        var cursors: [String: Int64] = [:]
        for frame in events { if let stream = frame.stream, let seq = frame.seq { cursors[stream] = seq } }
        return cursors
    }
}
