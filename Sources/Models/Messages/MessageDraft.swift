package import Foundation

/// A new message as a client sends it, over REST (`SendMessageRequest`) or realtime (`message.send`),
/// before it is checked.
package struct MessageDraft: Sendable, Equatable {
    package var clientMessageID: String
    package var body: String?
    package var replyToID: String?
    package var attachments: [String]

    /// Images one message may carry.
    package static let maxAttachments = 10

    package init(clientMessageID: String, body: String?, replyToID: String?, attachments: [String]) {
        self.clientMessageID = clientMessageID
        self.body = body
        self.replyToID = replyToID
        self.attachments = attachments
    }

    /// The draft checked, every bad field named: text of 1-4,000 characters, or none when the
    /// message carries images (1-10 uploads' ids, each once).
    package func validated() throws(Problem) -> ValidMessage {
        var validator = Validator()
        let clientMessageID = validator.check("clientMessageId", clientMessageID, FieldRules.clientMessageID)
        let text = (body ?? "").trimmingWhitespace()
        let body = attachments.isEmpty || !text.isEmpty ? validator.check("body", body ?? "", FieldRules.messageBody) : ""
        var errors = validator.errors
        let replyToID = replyToID.flatMap { raw in
            let id = UUID(text: raw)
            if id == nil { errors.append(FieldError(field: "replyToId", code: .invalidFormat, detail: "Not an id.")) }
            return id
        }
        if attachments.count > Self.maxAttachments {
            errors.append(FieldError(field: "attachments", code: .tooLong, detail: "At most \(Self.maxAttachments) images."))
        }
        let uploads = attachments.enumerated().compactMap { index, raw in
            let id = UUID(text: raw)
            if id == nil { errors.append(FieldError(field: "attachments[\(index)]", code: .invalidFormat, detail: "Not an upload id.")) }
            return id
        }
        guard errors.isEmpty else { throw Problem.validationFailed(errors) }
        return ValidMessage(clientMessageID: clientMessageID, body: body, replyToID: replyToID, attachments: uploads)
    }
}

/// A message draft that passed its checks, ready for the Store.
package struct ValidMessage: Sendable, Equatable {
    package var clientMessageID: String
    /// Empty when the message is only images.
    package var body: String
    package var replyToID: UUID?
    /// Uploads' ids, in order.
    package var attachments: [UUID]
}
