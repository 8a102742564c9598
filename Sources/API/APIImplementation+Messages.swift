import Foundation
import Models
import Store
import Auth

extension APIImplementation {
    func listMessages(_ input: Operations.ListMessages.Input) async throws -> Operations.ListMessages.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "conversation")
        let query = HistoryQuery(
            before: try Parameters.seq(input.query.before, field: "before"),
            after: try Parameters.seq(input.query.after, field: "after"),
            limit: try Parameters.limit(input.query.limit, fallback: 50, max: 200)
        )
        let page = try await store.history(of: id, viewer: identity.userID, query)
        return .ok(.init(body: .json(page)))
    }

    func sendMessage(_ input: Operations.SendMessage.Input) async throws -> Operations.SendMessage.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "conversation")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let draft = try MessageDraft(
            clientMessageID: body.clientMessageId,
            body: body.body,
            replyToID: body.replyToId,
            attachments: body.attachments ?? []
        ).validated()
        let (message, created) = try await store.sendMessage(
            to: id,
            from: identity.userID,
            clientMessageID: draft.clientMessageID,
            body: draft.body,
            replyTo: draft.replyToID,
            attachments: draft.attachments,
            now: now()
        )
        return created ? .created(.init(body: .json(message))) : .ok(.init(body: .json(message)))
    }

    func editMessage(_ input: Operations.EditMessage.Input) async throws -> Operations.EditMessage.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.messageId, "message")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let text = validator.check("body", body.body, FieldRules.messageBody)
        try validator.finish()
        let message = try await store.editMessage(id, by: identity.userID, body: text, now: now())
        return .ok(.init(body: .json(message)))
    }

    func deleteMessage(_ input: Operations.DeleteMessage.Input) async throws -> Operations.DeleteMessage.Output {
        let identity = try identity()
        try await store.deleteMessage(try Parameters.pathID(input.path.messageId, "message"), by: identity.userID, now: now())
        return .noContent(.init())
    }

    func addReaction(_ input: Operations.AddReaction.Input) async throws -> Operations.AddReaction.Output {
        try await react(messageID: input.path.messageId, emoji: input.path.emoji, add: true)
        return .noContent(.init())
    }

    func removeReaction(_ input: Operations.RemoveReaction.Input) async throws -> Operations.RemoveReaction.Output {
        try await react(messageID: input.path.messageId, emoji: input.path.emoji, add: false)
        return .noContent(.init())
    }

    private func react(messageID: String, emoji raw: String, add: Bool) async throws {
        let identity = try identity()
        let id = try Parameters.pathID(messageID, "message")
        var validator = Validator()
        let emoji = validator.check("emoji", raw, FieldRules.emoji)
        try validator.finish()
        try await store.react(to: id, by: identity.userID, emoji: emoji, add: add, now: now())
    }

    func markRead(_ input: Operations.MarkRead.Input) async throws -> Operations.MarkRead.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "conversation")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let seq = try Parameters.seq(body.seq, field: "seq") ?? 0
        try await store.markRead(id, by: identity.userID, upTo: seq, now: now())
        return .noContent(.init())
    }

    func listConversationEvents(
        _ input: Operations.ListConversationEvents.Input
    ) async throws -> Operations.ListConversationEvents.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "conversation")
        let after = try Parameters.seq(input.query.after, field: "after") ?? 0
        let limit = try Parameters.limit(input.query.limit, fallback: 100, max: 500)
        let (events, lastSeq) = try await store.conversationEvents(id, viewer: identity.userID, after: after, limit: limit)
        return .ok(.init(body: .json(.init(items: events, lastSeq: lastSeq))))
    }

    func searchMessages(_ input: Operations.SearchMessages.Input) async throws -> Operations.SearchMessages.Output {
        let identity = try identity()
        var validator = Validator()
        let query = validator.check("q", input.query.q, FieldRules.searchQuery)
        try validator.finish()
        let conversationID = try input.query.conversationId.map { raw throws(Problem) in try Parameters.id(raw, field: "conversationId") }
        let limit = try Parameters.limit(input.query.limit, fallback: 20, max: 100)
        let page = try await store.searchMessages(query, viewer: identity.userID, in: conversationID, limit: limit, cursor: input.query.cursor)
        return .ok(.init(body: .json(.init(items: page.items, nextCursor: page.nextCursor))))
    }
}
