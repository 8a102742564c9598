import Foundation
import Models
import Store
import Auth

extension APIImplementation {
    func listConversations(_ input: Operations.ListConversations.Input) async throws -> Operations.ListConversations.Output {
        let identity = try identity()
        let limit = try Parameters.limit(input.query.limit, fallback: 20, max: 100)
        let page = try await store.conversations(of: identity.userID, limit: limit, cursor: input.query.cursor)
        return .ok(.init(body: .json(.init(items: page.items, nextCursor: page.nextCursor))))
    }

    func openDirectConversation(
        _ input: Operations.OpenDirectConversation.Input
    ) async throws -> Operations.OpenDirectConversation.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let otherID = try Parameters.id(body.userId, field: "userId")
        let (conversation, created) = try await store.openDirectConversation(from: identity.userID, with: otherID, limits: membershipLimits, now: now())
        return created ? .created(.init(body: .json(conversation))) : .ok(.init(body: .json(conversation)))
    }

    func createGroup(_ input: Operations.CreateGroup.Input) async throws -> Operations.CreateGroup.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let title = validator.check("title", body.title, FieldRules.groupTitle)
        let description = validator.check("description", body.description, FieldRules.groupDescription)
        try validator.finish()
        let group = try await store.createGroup(
            owner: identity.userID,
            title: title,
            description: description ?? "",
            memberIDs: try Parameters.ids(body.memberIds ?? [], field: "memberIds"),
            limits: membershipLimits,
            now: now()
        )
        return .created(.init(body: .json(group)))
    }

    func getConversation(_ input: Operations.GetConversation.Input) async throws -> Operations.GetConversation.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "conversation")
        guard let conversation = try await store.conversation(id, viewer: identity.userID) else {
            throw Problem.notFound("No such conversation.")
        }
        return .ok(.init(body: .json(conversation)))
    }

    func updateGroup(_ input: Operations.UpdateGroup.Input) async throws -> Operations.UpdateGroup.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "group")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let title = validator.check("title", body.title, FieldRules.groupTitle)
        let description = validator.check("description", body.description, FieldRules.groupDescription)
        try validator.finish()
        let group = try await store.updateGroup(id, by: identity.userID, title: title, description: description, now: now())
        return .ok(.init(body: .json(group)))
    }

    func deleteGroup(_ input: Operations.DeleteGroup.Input) async throws -> Operations.DeleteGroup.Output {
        let identity = try identity()
        try await store.deleteGroup(try Parameters.pathID(input.path.conversationId, "group"), by: identity.userID, now: now())
        return .noContent(.init())
    }

    func listMembers(_ input: Operations.ListMembers.Input) async throws -> Operations.ListMembers.Output {
        let identity = try identity()
        let members = try await store.members(of: try Parameters.pathID(input.path.conversationId, "conversation"), viewer: identity.userID)
        return .ok(.init(body: .json(.init(items: members))))
    }

    func addMembers(_ input: Operations.AddMembers.Input) async throws -> Operations.AddMembers.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "group")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        guard !body.userIds.isEmpty else { throw Problem.invalidField("userIds", .required, "Name at least one user.") }
        let members = try await store.addMembers(
            try Parameters.ids(body.userIds, field: "userIds"),
            to: id,
            by: identity.userID,
            limits: membershipLimits,
            now: now()
        )
        return .ok(.init(body: .json(.init(items: members))))
    }

    func removeMember(_ input: Operations.RemoveMember.Input) async throws -> Operations.RemoveMember.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "group")
        let userID = try Parameters.pathID(input.path.userId, "member")
        try await store.removeMember(userID, from: id, by: identity.userID, now: now())
        return .noContent(.init())
    }

    func updateMember(_ input: Operations.UpdateMember.Input) async throws -> Operations.UpdateMember.Output {
        let identity = try identity()
        let id = try Parameters.pathID(input.path.conversationId, "group")
        let userID = try Parameters.pathID(input.path.userId, "member")
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let member = try await store.changeRole(of: userID, in: id, to: body.role, by: identity.userID, now: now())
        return .ok(.init(body: .json(member)))
    }
}
