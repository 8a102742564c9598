import Auth
import Foundation
import Models
import Store

extension APIImplementation {
    func getConversationPreferences(
        _ input: Operations.GetConversationPreferences.Input
    ) async throws -> Operations.GetConversationPreferences.Output {
        let identity = try identity()
        let conversation = try Parameters.pathID(input.path.conversationId, "conversation")
        return .ok(.init(body: .json(try await store.conversationPreferences(of: identity.userID, in: conversation))))
    }

    func updateConversationPreferences(
        _ input: Operations.UpdateConversationPreferences.Input
    ) async throws -> Operations.UpdateConversationPreferences.Output {
        let identity = try identity()
        let conversation = try Parameters.pathID(input.path.conversationId, "conversation")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        var update = ConversationPreferencesUpdate()
        if let level = body.notifications {
            update.notifications = .some(NotificationLevel(rawValue: level.rawValue))
        }
        if let mutedUntil = body.mutedUntil {
            update.mutedUntil = .some(mutedUntil > now() ? mutedUntil : nil)
        }
        if let theme = body.theme {
            update.theme = .some(theme.validated("theme", into: &validator))
        } else if body.resetTheme == true {
            update.theme = .some(nil)
        }
        try validator.finish()
        return .ok(.init(body: .json(try await store.updateConversationPreferences(of: identity.userID, in: conversation, update, now: now()))))
    }

    func setConversationTheme(_ input: Operations.SetConversationTheme.Input) async throws -> Operations.SetConversationTheme.Output {
        let identity = try identity()
        let conversation = try Parameters.pathID(input.path.conversationId, "conversation")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let theme = body.validated("", into: &validator)
        try validator.finish()
        return .ok(.init(body: .json(try await store.setTheme(of: conversation, to: theme, by: identity.userID, now: now()))))
    }

    func removeConversationTheme(
        _ input: Operations.RemoveConversationTheme.Input
    ) async throws -> Operations.RemoveConversationTheme.Output {
        let identity = try identity()
        let conversation = try Parameters.pathID(input.path.conversationId, "conversation")
        return .ok(.init(body: .json(try await store.setTheme(of: conversation, to: nil, by: identity.userID, now: now()))))
    }
}
