import Foundation

/// A frame from a client, read from its JSON text.
package enum ClientFrame: Sendable, Equatable {
    case auth(token: String, cursors: [String: Int64]?)
    case resume(id: String?, cursors: [String: Int64])
    case send(id: String?, conversationID: String, draft: MessageDraft)
    case typing(id: String?, conversationID: String)
    case read(id: String?, conversationID: String, seq: Int64)
    case presence(id: String?, status: String)
    case ping(id: String?)

    /// Every client frame type.
    package static let types = ["auth", "resume", "message.send", "typing", "read", "presence", "ping"]

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
        var attachments: [String]?
        var seq: Int64?
        var status: String?
    }

    /// Reads a text frame, or says why not (with the frame's `id` when it had one).
    package static func parse(_ text: String) throws(FrameError) -> ClientFrame {
        let fields: Fields
        do {
            fields = try WireJSON.decode(Fields.self, from: Data(text.utf8))
        } catch {
            throw FrameError(id: Self.id(in: text), code: .invalidFrame, detail: "Not a JSON object with the fields of a frame.")
        }
        func required<T>(_ value: T?, _ name: String) throws(FrameError) -> T {
            guard let value else { throw FrameError(id: fields.id, code: .validationFailed, detail: "`\(name)` is required.") }
            return value
        }
        switch fields.type {
        case "auth": return .auth(token: try required(fields.token, "token"), cursors: fields.cursors)
        case "resume": return .resume(id: fields.id, cursors: fields.cursors ?? [:])
        case "message.send":
            return .send(
                id: fields.id,
                conversationID: try required(fields.conversationId, "conversationId"),
                draft: MessageDraft(
                    clientMessageID: try required(fields.clientMessageId, "clientMessageId"),
                    body: fields.body,
                    replyToID: fields.replyToId,
                    attachments: fields.attachments ?? []
                )
            )
        case "typing": return .typing(id: fields.id, conversationID: try required(fields.conversationId, "conversationId"))
        case "read":
            return .read(id: fields.id, conversationID: try required(fields.conversationId, "conversationId"), seq: try required(fields.seq, "seq"))
        case "presence": return .presence(id: fields.id, status: try required(fields.status, "status"))
        case "ping": return .ping(id: fields.id)
        case nil: throw FrameError(id: fields.id, code: .invalidFrame, detail: "`type` is required.")
        case let type?: throw FrameError(id: fields.id, code: .unknownType, detail: "No frame has the type '\(type.prefix(40))'.")
        }
    }

    /// The `id` of a frame's text, if it has one, without reading the rest.
    package static func id(in text: String) -> String? {
        struct OnlyID: Decodable { var id: String? }
        return (try? WireJSON.decode(OnlyID.self, from: Data(text.utf8)))?.id
    }

    /// The frame's `id`, echoed in the reply.
    package var id: String? {
        switch self {
        case .auth: nil  // auth frames carry no id; their ack has none
        case .resume(let id, _), .send(let id, _, _), .typing(let id, _), .read(let id, _, _), .presence(let id, _), .ping(let id): id
        }
    }
}

/// A client frame the server refuses, answered with an `error` frame.
package struct FrameError: Error, Sendable, Equatable {
    package var id: String?
    package var code: ErrorCode
    package var detail: String

    package init(id: String?, code: ErrorCode, detail: String) {
        self.id = id
        self.code = code
        self.detail = detail
    }
}
