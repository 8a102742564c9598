import Foundation
import Models

/// A frame from a client, read from its JSON text.
enum ClientFrame: Sendable {
    case auth(token: String, cursors: [String: Int64]?)
    case resume(id: String?, cursors: [String: Int64])
    case send(id: String?, conversationID: String, clientMessageID: String, body: String, replyToID: String?)
    case typing(id: String?, conversationID: String)
    case read(id: String?, conversationID: String, seq: Int64)
    case presence(id: String?, status: String)
    case ping(id: String?)

    /// Every client frame type.
    static let types = ["auth", "resume", "message.send", "typing", "read", "presence", "ping"]

    /// The fields any client frame may carry; which are required depends on `type`.
    private struct Fields: Decodable {
        var type: String?
        var id: String?
        var token: String?
        var cursors: [String: Int64]?
        var conversationId: String?
        var clientMessageId: String?
        var body: String?
        var replyToId: String?
        var seq: Int64?
        var status: String?
    }

    /// Reads a text frame, or says why not (with the frame's `id` when it had one).
    static func parse(_ text: String) throws(FrameError) -> ClientFrame {
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(text.utf8))
        } catch {
            throw FrameError(id: Self.id(in: text), code: "invalid_frame", detail: "Not a JSON object with the fields of a frame.")
        }
        func required<T>(_ value: T?, _ name: String) throws(FrameError) -> T {
            guard let value else { throw FrameError(id: fields.id, code: "validation_failed", detail: "`\(name)` is required.") }
            return value
        }
        switch fields.type {
        case "auth": return .auth(token: try required(fields.token, "token"), cursors: fields.cursors)
        case "resume": return .resume(id: fields.id, cursors: fields.cursors ?? [:])
        case "message.send":
            return .send(
                id: fields.id,
                conversationID: try required(fields.conversationId, "conversationId"),
                clientMessageID: try required(fields.clientMessageId, "clientMessageId"),
                body: try required(fields.body, "body"),
                replyToID: fields.replyToId
            )
        case "typing": return .typing(id: fields.id, conversationID: try required(fields.conversationId, "conversationId"))
        case "read":
            return .read(id: fields.id, conversationID: try required(fields.conversationId, "conversationId"), seq: try required(fields.seq, "seq"))
        case "presence": return .presence(id: fields.id, status: try required(fields.status, "status"))
        case "ping": return .ping(id: fields.id)
        case nil: throw FrameError(id: fields.id, code: "invalid_frame", detail: "`type` is required.")
        case let type?: throw FrameError(id: fields.id, code: "unknown_type", detail: "No frame has the type '\(type.prefix(40))'.")
        }
    }

    private static func id(in text: String) -> String? {
        struct OnlyID: Decodable { var id: String? }
        return (try? JSONDecoder().decode(OnlyID.self, from: Data(text.utf8)))?.id
    }

    var id: String? {
        switch self {
        case .auth: nil  // auth frames carry no id; their ack has none
        case .resume(let id, _), .send(let id, _, _, _, _), .typing(let id, _), .read(let id, _, _), .presence(let id, _), .ping(let id): id
        }
    }
}

/// A client frame the server refuses, answered with an `error` frame.
struct FrameError: Error, Sendable {
    var id: String?
    var code: String
    var detail: String
}

/// The frames the server sends, as JSON text. Logged events go out exactly as the REST event log
/// shows them; the other types are control and ephemeral frames and carry no `seq`.
enum ServerFrame {
    /// Every type the server sends besides the logged events (`EventType.all`).
    static let controlTypes = ["hello", "resumed", "resync", "message.sent", "ack", "typing", "presence.changed", "pong", "error"]

    /// A logged event: `{data, seq, stream, ts, type}`, built once per event and shared by every connection.
    static func event(_ event: Event) -> String {
        let ts = event.ts.formatted(.iso8601)
        return #"{"data":"# + String(decoding: event.data, as: UTF8.self)
            + #","seq":\#(event.seq),"stream":"\#(event.stream.rawValue)","ts":"\#(ts)","type":"\#(event.type.rawValue)"}"#
    }

    struct Hello: Encodable {
        let type = "hello"
        var userId: String
        var sessionId: String
        /// The position of each followed stream when the connection opened: the "now" that streams
        /// a `resume` does not name start from.
        var streams: [String: Int64]
        var limits: Limits

        struct Limits: Encodable {
            var maxFrameBytes: Int
            var maxQueuedFrames: Int
            var framesPerSecond: Double
            var resumeWindowMilliseconds: Int
        }
    }

    struct Resumed: Encodable {
        let type = "resumed"
        var id: String?
        var streams: [String: Int64]
    }

    struct Resync: Encodable {
        let type = "resync"
        var stream: String
        /// `expired`: events since the cursor are no longer kept; `ahead`: the cursor is past the
        /// stream's end; `unknown`: the connection does not follow that stream; `late`: live events of
        /// the stream were already delivered when the resume came.
        var reason: String
        var lastSeq: Int64?
    }

    struct MessageSent: Encodable {
        let type = "message.sent"
        var id: String?
        var created: Bool
        var message: MessagePayload
    }

    struct Ack: Encodable {
        let type = "ack"
        var id: String?
        var `for`: String
    }

    struct Typing: Encodable {
        let type = "typing"
        var conversationId: String
        var userId: String
        var expiresIn: Double
    }

    struct PresenceChanged: Encodable {
        let type = "presence.changed"
        var userId: String
        var status: PresenceStatus
        var lastSeenAt: Date?
    }

    struct Pong: Encodable {
        let type = "pong"
        var id: String?
    }

    struct Failure: Encodable {
        let type = "error"
        var id: String?
        var code: String
        var title: String
        var detail: String?
    }

    static func encode(_ frame: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(frame)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"type":"error","code":"internal_error"}"#
    }

    static func error(_ problem: Problem, id: String?) -> String {
        encode(Failure(id: id, code: problem.code.rawValue, title: problem.title, detail: problem.detail))
    }

    static func error(_ failure: FrameError) -> String {
        encode(Failure(id: failure.id, code: failure.code, title: "Frame refused", detail: failure.detail))
    }
}
