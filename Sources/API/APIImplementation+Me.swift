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
        let username = validator.check("username", body.username, FieldRules.username)
        try validator.finish()

        guard
            let user = try await store.updateProfile(userID: identity.userID, displayName: displayName, bio: bio, username: username, now: now())
        else { throw Problem.unauthorized }
        return .ok(.init(body: .json(user)))
    }

    func deleteMe(_ input: Operations.DeleteMe.Input) async throws -> Operations.DeleteMe.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        try await requirePassword(body.password, of: identity)
        guard
            let revoked = try await store.beginAccountDeletion(userID: identity.userID, deleteMessages: body.deleteMessages ?? false, now: now())
        else { throw Problem.unauthorized }
        revoked.forEach(authenticator.sessionEnded)
        security("account_deleted", "The account was deleted; its sessions are revoked", user: identity.userID)
        return .accepted(.init())
    }

    func changeEmail(_ input: Operations.ChangeEmail.Input) async throws -> Operations.ChangeEmail.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let newEmail = validator.check("newEmail", body.newEmail, FieldRules.email)
        try validator.finish()

        try await requirePassword(body.password, of: identity)
        try await accountMail.requestEmailChange(userID: identity.userID, newEmail: newEmail)
        security("email_change_requested", "A change of address was asked for; the link went to the new address", user: identity.userID)
        return .accepted(.init())
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
        var validator = Validator()
        var update = PreferencesUpdate()
        if let appearance = body.appearance {
            update.theme = appearance.theme.flatMap { AppearancePreferences.Theme(rawValue: $0.rawValue) }
            if let raw = appearance.accentColor {
                if raw == "default" {
                    update.accentColor = .some(nil)
                } else {
                    let color: String = validator.check("appearance.accentColor", raw, FieldRules.color)
                    update.accentColor = .some(color)
                }
            }
            update.fontScale = validator.check("appearance.fontScale", appearance.fontScale, FieldRules.fontScale)
            update.density = appearance.density.flatMap { AppearancePreferences.Density(rawValue: $0.rawValue) }
        }
        if let accessibility = body.accessibility {
            update.reducedMotion = accessibility.reducedMotion
            update.highContrast = accessibility.highContrast
            update.screenReaderAnnouncements = accessibility.screenReaderAnnouncements
        }
        if let notifications = body.notifications {
            update.directLevel = notifications.direct
            update.groupsLevel = notifications.groups
            update.sound = notifications.sound
            update.desktop = notifications.desktop
            if let quietHours = notifications.quietHours {
                update.quietHoursEnabled = quietHours.enabled
                update.quietHoursStart = validator.check("notifications.quietHours.start", quietHours.start, FieldRules.clockTime)
                update.quietHoursEnd = validator.check("notifications.quietHours.end", quietHours.end, FieldRules.clockTime)
                update.quietHoursTimeZone = validator.check("notifications.quietHours.timeZone", quietHours.timeZone, FieldRules.timeZone)
            }
        }
        if let privacy = body.privacy {
            update.groupAdds = privacy.groupAdds.map { PrivacyPreferences.GroupAdds(rawValue: $0.rawValue) ?? .everyone }
            update.showLastSeen = privacy.showLastSeen
        }
        try validator.finish()
        guard let preferences = try await store.updatePreferences(of: identity.userID, update, now: now()) else {
            throw Problem.unauthorized
        }
        return .ok(.init(body: .json(preferences)))
    }
}
