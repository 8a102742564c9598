import Foundation
import ParleyClient
import HTTPTypes
import HummingbirdTesting
import Models
import Store
import TestSupport
import Testing

@Suite("Preferences, per-conversation levels and mutes, chat themes", .timeLimit(.minutes(1)))
struct PreferencesAPITests {
    /// Sends a raw PATCH /me/preferences; returns the status and the refused fields.
    static func patch(_ app: TestApp, _ token: String, _ json: String) async throws -> (HTTPResponse.Status, [String: String]) {
        let response = try await app.raw(
            .patch, "/api/v1/me/preferences",
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: json
        )
        let fields = response.status == .badRequest ? Dictionary(uniqueKeysWithValues: (try response.problem.errors ?? []).map { ($0.field, $0.code) }) : [:]
        return (response.status, fields)
    }

    @Test("Appearance, accessibility and notification defaults follow the user, validated field by field", arguments: TestBackend.all)
    func preferences(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let api = app.api(token: alice.accessToken)
            let defaults = try await api.getPreferences().ok.body.json
            #expect(defaults.appearance.theme == .system && defaults.appearance.fontScale == 1.0 && defaults.appearance.accentColor == nil)
            #expect(defaults.accessibility.screenReaderAnnouncements && !defaults.accessibility.reducedMotion)
            #expect(defaults.notifications.direct == .all && defaults.notifications.groups == .mentions && !defaults.notifications.quietHours.enabled)

            let (status, _) = try await Self.patch(app, alice.accessToken, """
                {"appearance":{"theme":"dark","accentColor":"#3366CC","fontScale":1.25,"density":"compact"},
                 "accessibility":{"reducedMotion":true,"highContrast":true},
                 "notifications":{"groups":"none","sound":false,"quietHours":{"enabled":true,"start":"22:30","end":"07:00","timeZone":"Europe/Paris"}}}
                """)
            #expect(status == .ok)
            let after = try await api.getPreferences().ok.body.json
            #expect(after.appearance.theme == .dark && after.appearance.accentColor == "#3366cc" && after.appearance.fontScale == 1.25)
            #expect(after.appearance.density == .compact && after.accessibility.reducedMotion && after.accessibility.highContrast)
            #expect(after.notifications.groups == .none && !after.notifications.sound && after.notifications.direct == .all)
            #expect(after.notifications.quietHours.timeZone == "Europe/Paris" && after.notifications.quietHours.start == "22:30")
            #expect(after.privacy.groupAdds == .everyone, "untouched groups stay as they were")

            // Every device hears of each change once.
            let events = try await app.configuration.withStore { store in
                try await store.events(in: .user(UUID(uuidString: alice.user.id)!), after: 0, limit: 100)
            }
            #expect(events.filter { $0.type == .preferencesUpdated }.count == 1)

            #expect(try await Self.patch(app, alice.accessToken, #"{"appearance":{"accentColor":"default"}}"#).0 == .ok)
            #expect(try await api.getPreferences().ok.body.json.appearance.accentColor == nil)

            // Out of range, malformed, unknown: 400 naming each field; nothing changes.
            let (refused, fields) = try await Self.patch(app, alice.accessToken, """
                {"appearance":{"fontScale":3,"accentColor":"red"},
                 "notifications":{"quietHours":{"start":"25:00","timeZone":"Mars/Olympus_Mons"}}}
                """)
            #expect(refused == .badRequest)
            #expect(fields == [
                "appearance.fontScale": "too_large", "appearance.accentColor": "invalid_format",
                "notifications.quietHours.start": "invalid_format", "notifications.quietHours.timeZone": "invalid_format",
            ])
            #expect(try await Self.patch(app, alice.accessToken, ##"{"appearance":{"colour":"#000000"}}"##) == (.badRequest, ["appearance.colour": "invalid_format"]))
            #expect(try await Self.patch(app, alice.accessToken, #"{"notifications":{"groups":"sometimes"}}"#) == (.badRequest, ["notifications.groups": "invalid_format"]))
            #expect(try await api.getPreferences().ok.body.json.appearance.fontScale == 1.25)
        }
    }

    @Test("Levels and mutes: direct messages reach the inbox only at `all` and unmuted; mentions always", arguments: TestBackend.all)
    func levels(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let a = app.api(token: alice.accessToken)
            let b = app.api(token: bob.accessToken)
            let direct = try await a.openDirectConversation(body: .json(.init(userId: bob.user.id))).created.body.json.id
            let group = try await a.createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created.body.json.id
            #expect(try await b.getConversationPreferences(path: .init(conversationId: direct)).ok.body.json.notifications == .all)
            #expect(try await b.getConversationPreferences(path: .init(conversationId: group)).ok.body.json.notifications == .mentions)

            var sent = 0
            func send(_ body: String) async throws -> String {
                sent += 1
                return try await a.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "m\(sent)", body: body))).created.body.json.id
            }
            func inbox() async throws -> [String] {
                try await b.listNotifications().ok.body.json.items.compactMap(\.messageId)
            }
            let first = try await send("hello")
            #expect(try await inbox().contains(first))

            // Muted for an hour: the plain message stays out, the mention gets in.
            let muted = try await b.updateConversationPreferences(
                path: .init(conversationId: direct), body: .json(.init(mutedUntil: Date().addingTimeInterval(3600)))
            ).ok.body.json
            #expect(muted.mutedUntil != nil && muted.notifications == .all && !muted.custom)
            // His other devices hear of it in his own stream, with all his settings of that conversation.
            let followed = try await app.configuration.withStore { store in
                try await store.events(in: .user(UUID(uuidString: bob.user.id)!), after: 0, limit: 100)
            }.compactMap { event -> ConversationPreferencesUpdatedData? in
                guard case .conversationPreferencesUpdated(let data) = event.payload else { return nil }
                return data
            }
            #expect(followed.count == 1 && followed.first?.conversationID.uuidString.lowercased() == direct.lowercased())
            #expect(followed.first?.preferences.mutedUntil != nil)
            let quiet = try await send("are you there?")
            let named = try await send("@bob!")
            #expect(try await !inbox().contains(quiet))
            #expect(try await inbox().contains(named))

            // A mute that ends now ends; then `none` of his own choosing does the same as the mute.
            let unmuted = try await b.updateConversationPreferences(path: .init(conversationId: direct), body: .json(.init(mutedUntil: Date()))).ok.body.json
            #expect(unmuted.mutedUntil == nil)
            let back = try await send("back")
            #expect(try await inbox().contains(back))
            let none = try await b.updateConversationPreferences(path: .init(conversationId: direct), body: .json(.init(notifications: Components.Schemas.ConversationPreferencesUpdate.NotificationsPayload.none))).ok.body.json
            #expect(none.notifications == .none && none.custom)
            let nothing = try await send("nothing")
            #expect(try await !inbox().contains(nothing))

            // `default` returns to his default for direct conversations, which he then lowers himself.
            _ = try await b.updateConversationPreferences(path: .init(conversationId: direct), body: .json(.init(notifications: ._default))).ok
            let again = try await send("default again")
            #expect(try await inbox().contains(again))
            _ = try await b.updatePreferences(body: .json(.init(notifications: .init(direct: .mentions)))).ok
            let lowered = try await b.getConversationPreferences(path: .init(conversationId: direct)).ok.body.json
            #expect(lowered.notifications == .mentions && !lowered.custom)
            let below = try await send("below his default")
            #expect(try await !inbox().contains(below))

            // Someone else's conversation: 404.
            let carol = try await app.register("carol")
            #expect(try await app.api(token: carol.accessToken).getConversationPreferences(path: .init(conversationId: direct)).notFound.body.applicationProblemJson.code == "not_found")
        }
    }

    @Test("Themes: shared by the members, set by a group's admins or either person of a direct conversation, overridable per member", arguments: TestBackend.all)
    func themes(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let a = app.api(token: alice.accessToken)
            let b = app.api(token: bob.accessToken)
            let group = try await a.createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created.body.json.id
            let set = try await a.setConversationTheme(path: .init(conversationId: group), body: .json(.init(name: .ocean, accentColor: "#AA3366", wallpaper: .waves))).ok.body.json
            #expect(set.theme?.name == .ocean && set.theme?.accentColor == "#aa3366" && set.theme?.wallpaper == .waves)
            let seenByBob = try await b.listConversations().ok.body.json.items.first { $0.id == group }
            #expect(seenByBob?.theme?.name == .ocean)
            let events = try await a.listConversationEvents(path: .init(conversationId: group)).ok.body.json.items
            let updated = events.compactMap { event -> Components.Schemas.ConversationData? in
                if case .conversation_updated(let e) = event { return e.data }
                return nil
            }
            #expect(updated.last?.theme?.name == .ocean)

            // A member who is not an admin may not; in a direct conversation either person may.
            #expect(try await b.setConversationTheme(path: .init(conversationId: group), body: .json(.init(name: .rose))).forbidden.body.applicationProblemJson.code == "forbidden")
            let direct = try await a.openDirectConversation(body: .json(.init(userId: bob.user.id))).created.body.json.id
            #expect(try await b.setConversationTheme(path: .init(conversationId: direct), body: .json(.init(name: .rose))).ok.body.json.theme?.name == .rose)

            // Names outside the documented set, and bad colours, are refused by field.
            let bad = try await app.raw(
                .put, "/api/v1/conversations/\(group)/theme",
                headers: [.authorization: "Bearer \(alice.accessToken)", .contentType: "application/json"],
                body: #"{"name":"ocean","accentColor":"blue"}"#
            )
            #expect(bad.status == .badRequest)
            #expect(try bad.problem.errors?.map(\.field) == ["accentColor"])
            let unknown = try await app.raw(
                .put, "/api/v1/conversations/\(group)/theme",
                headers: [.authorization: "Bearer \(alice.accessToken)", .contentType: "application/json"], body: #"{"name":"neon"}"#
            )
            #expect(unknown.status == .badRequest)

            // Bob's own look for the group, then back to the shared one.
            let own = try await b.updateConversationPreferences(path: .init(conversationId: group), body: .json(.init(theme: .init(name: .midnight)))).ok.body.json
            #expect(own.theme?.name == .midnight)
            #expect(try await b.listConversations().ok.body.json.items.first { $0.id == group }?.theme?.name == .ocean, "the shared theme is unchanged")
            #expect(try await b.updateConversationPreferences(path: .init(conversationId: group), body: .json(.init(resetTheme: true))).ok.body.json.theme == nil)

            #expect(try await a.removeConversationTheme(path: .init(conversationId: group)).ok.body.json.theme == nil)
        }
    }
}
