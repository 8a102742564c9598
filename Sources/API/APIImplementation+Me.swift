import Foundation
import Models
import Store
import Auth

extension APIImplementation {
    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let identity = try identity()
        guard let user = try await store.user(id: identity.userID) else { throw Problem.unauthorized }
        return .ok(.init(body: .json(user)))
    }

    func updateMe(_ input: Operations.UpdateMe.Input) async throws -> Operations.UpdateMe.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let displayName = validator.check("displayName", body.displayName, FieldRules.displayName)
        let bio = validator.check("bio", body.bio, FieldRules.bio)
        try validator.finish()

        guard let user = try await store.updateProfile(userID: identity.userID, displayName: displayName, bio: bio, now: now())
        else { throw Problem.unauthorized }
        return .ok(.init(body: .json(user)))
    }
}

extension APIImplementation {
    func getPreferences(_ input: Operations.GetPreferences.Input) async throws -> Operations.GetPreferences.Output {
        guard let preferences = try await store.preferences(of: try identity().userID) else { throw Problem.unauthorized }
        return .ok(.init(body: .json(preferences)))
    }

    func updatePreferences(_ input: Operations.UpdatePreferences.Input) async throws -> Operations.UpdatePreferences.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let update = PreferencesUpdate(
            groupAdds: body.privacy?.groupAdds.map { PrivacyPreferences.GroupAdds(rawValue: $0.rawValue) ?? .everyone },
            showLastSeen: body.privacy?.showLastSeen
        )
        guard let preferences = try await store.updatePreferences(of: identity.userID, update, now: now()) else {
            throw Problem.unauthorized
        }
        return .ok(.init(body: .json(preferences)))
    }
}
