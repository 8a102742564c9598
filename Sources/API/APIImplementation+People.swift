import Foundation
import Models
import Store
import Auth

extension APIImplementation {
    func searchUsers(_ input: Operations.SearchUsers.Input) async throws -> Operations.SearchUsers.Output {
        let identity = try identity()
        var validator = Validator()
        let query = validator.check("q", input.query.q, FieldRules.searchQuery)
        try validator.finish()
        let limit = try Parameters.limit(input.query.limit, fallback: 20, max: 100)
        let page = try await store.searchUsers(query, viewer: identity.userID, limit: limit, cursor: input.query.cursor)
        return .ok(.init(body: .json(.init(items: page.items, nextCursor: page.nextCursor))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let identity = try identity()
        guard let user = try await store.publicUser(id: try Parameters.pathID(input.path.userId, "user"), viewer: identity.userID) else {
            throw Problem.notFound("No such user.")
        }
        return .ok(.init(body: .json(user)))
    }

    func listContacts(_ input: Operations.ListContacts.Input) async throws -> Operations.ListContacts.Output {
        let contacts = try await store.contacts(of: try identity().userID)
        return .ok(.init(body: .json(.init(items: contacts))))
    }

    func putContact(_ input: Operations.PutContact.Input) async throws -> Operations.PutContact.Output {
        let identity = try identity()
        let contactID = try Parameters.pathID(input.path.userId, "user")
        var nickname: String?
        if case .json(let body) = input.body {
            var validator = Validator()
            nickname = validator.check("nickname", body.nickname, FieldRules.nickname)
            try validator.finish()
        }
        let contact = try await store.putContact(
            owner: identity.userID,
            contact: contactID,
            nickname: nickname.flatMap { $0.isEmpty ? nil : $0 },
            now: now()
        )
        return .ok(.init(body: .json(contact)))
    }

    func removeContact(_ input: Operations.RemoveContact.Input) async throws -> Operations.RemoveContact.Output {
        let identity = try identity()
        let contactID = try Parameters.pathID(input.path.userId, "contact")
        guard try await store.removeContact(owner: identity.userID, contact: contactID, now: now()) else {
            throw Problem.notFound("No such contact.")
        }
        return .noContent(.init())
    }

    func listBlocks(_ input: Operations.ListBlocks.Input) async throws -> Operations.ListBlocks.Output {
        let blocks = try await store.blocks(of: try identity().userID)
        return .ok(.init(body: .json(.init(items: blocks))))
    }

    func blockUser(_ input: Operations.BlockUser.Input) async throws -> Operations.BlockUser.Output {
        let identity = try identity()
        let block = try await store.block(owner: identity.userID, target: try Parameters.pathID(input.path.userId, "user"), now: now())
        return .ok(.init(body: .json(block)))
    }

    func unblockUser(_ input: Operations.UnblockUser.Input) async throws -> Operations.UnblockUser.Output {
        let identity = try identity()
        guard try await store.unblock(owner: identity.userID, target: try Parameters.pathID(input.path.userId, "block")) else {
            throw Problem.notFound("No such block.")
        }
        return .noContent(.init())
    }
}
