import App
import Auth
import Foundation
import ParleyClient
import HTTPTypes
import Models
import SQLKit
import TestSupport
import Testing
import HummingbirdTesting
import NIOCore
import API
import Store

/// The holes a review found, each shut: limits counted before hashing, forced membership, text
/// that outlived its deletion, lingering reset links and sessions, blocks that let reactions through.
@Suite("Security", .timeLimit(.minutes(2)))
struct SecurityTests {
    // MARK: - Password hashing and logins

    @Test("200 parallel wrong passwords for one account: at most the limit's worth are checked, the rest are 429", arguments: TestBackend.all)
    func parallelGuessesAreCountedBeforeHashing(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.passwordHashesWaiting = 1000 }) { app in
            _ = try await app.register("victim", password: "the right one")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<200 {
                    group.addTask {
                        let response = try await app.api.login(body: .json(.init(login: "victim", password: "guess number \(n)")))
                        switch response {
                        case .unauthorized: return 401
                        case .tooManyRequests: return 429
                        default: return 0
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            let limit = RateLimits().loginsPerAccountAndAddress.limit
            #expect(statuses.filter { $0 == 401 }.count <= limit)
            #expect(statuses.filter { $0 == 429 }.count >= 200 - limit)
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })
        }
    }

    @Test("A taken name or address is refused before any hashing: it answers far faster than a registration that hashes", arguments: TestBackend.all)
    func takenNamesAreRefusedBeforeHashing(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.passwordCost = 14 }) { app in
            // At cost 14 one hash takes about a second: a registration that hashes shows it.
            let hashing = ContinuousClock.now
            _ = try await app.register("taken")
            let oneHash = ContinuousClock.now - hashing
            let refusing = ContinuousClock.now
            let again = try await app.api.register(body: .json(.init(username: "TAKEN", email: "other@example.com", password: "long enough")))
            #expect(try again.conflict.body.applicationProblemJson.code == "username_taken")
            let email = try await app.api.register(body: .json(.init(username: "other", email: "taken@example.com", password: "long enough")))
            #expect(try email.conflict.body.applicationProblemJson.code == "email_taken")
            // Two refusals together take less than half of one hash, however busy the machine.
            #expect(ContinuousClock.now - refusing < oneHash / 2, "\(ContinuousClock.now - refusing) against \(oneHash)")
        }
    }

    @Test("Past the hashing queue's bound a login is refused at once with 503 and Retry-After", arguments: [TestBackend.sqlite])
    func hashingQueueIsBounded(backend: TestBackend) async throws {
        try await withApp(backend, configure: { configuration in
            configuration.passwordCost = 10
            configuration.passwordHashingThreads = 1
            configuration.passwordHashesWaiting = 1
        }) { app in
            for n in 0..<8 { _ = try await app.register("user\(n)", password: "password \(n)") }
            let answers = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for n in 0..<8 {
                    group.addTask {
                        let response = try await app.raw(
                            .post,
                            "/api/v1/auth/login",
                            headers: [.contentType: "application/json"],
                            body: #"{"login":"user\#(n)","password":"password \#(n)"}"#
                        )
                        return (Int(response.status.code), response.headers[.retryAfter].flatMap(Int.init))
                    }
                }
                return try await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
            }
            let refused = answers.filter { $0.0 == 503 }
            #expect(!refused.isEmpty, "\(answers)")
            #expect(refused.allSatisfy { ($0.1 ?? 0) >= 1 })
            #expect(answers.allSatisfy { $0.0 == 200 || $0.0 == 503 })
        }
    }

    @Test("Registrations are limited per client address", arguments: TestBackend.all)
    func registrationsPerAddress(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.limits.registrationsPerAddress = .init(limit: 2, window: 3600) }) { app in
            _ = try await app.register("one")
            _ = try await app.register("two")
            let third = try await app.api.register(body: .json(.init(username: "three", email: "three@example.com", password: "long enough")))
            #expect(try third.tooManyRequests.headers.retryAfter > 0)
        }
    }

    // MARK: - Group membership

    @Test("Nobody adds a user who blocked them, or who lets only contacts add them, and the answer does not say which", arguments: TestBackend.all)
    func forcedMembership(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let adder = try await app.register("adder")
            let blocker = try await app.register("blocker")
            let choosy = try await app.register("choosy")
            let friend = try await app.register("friend")
            _ = try await app.api(token: blocker.accessToken).blockUser(path: .init(userId: adder.user.id)).ok
            let choosyAPI = app.api(token: choosy.accessToken)
            let preferences = try await choosyAPI.updatePreferences(body: .json(.init(privacy: .init(groupAdds: .contacts)))).ok.body.json
            #expect(preferences.privacy.groupAdds == .contacts)
            let api = app.api(token: adder.accessToken)

            let refusedAtCreation = try await api.createGroup(body: .json(.init(title: "G", memberIds: [friend.user.id, blocker.user.id])))
            let problem = try refusedAtCreation.forbidden.body.applicationProblemJson
            #expect(problem.code == "forbidden" && problem.errors?.map(\.field) == ["memberIds[1]"])

            let group = try await api.createGroup(body: .json(.init(title: "G", memberIds: [friend.user.id]))).created.body.json
            let blocked = try await api.addMembers(path: .init(conversationId: group.id), body: .json(.init(userIds: [blocker.user.id]))).forbidden
            let choosyRefused = try await api.addMembers(path: .init(conversationId: group.id), body: .json(.init(userIds: [choosy.user.id]))).forbidden
            // The same words for a block and for the privacy setting.
            #expect(try blocked.body.applicationProblemJson.detail == choosyRefused.body.applicationProblemJson.detail)

            // Once the choosy user has the adder as a contact, the add goes through.
            _ = try await choosyAPI.putContact(path: .init(userId: adder.user.id)).ok
            let members = try await api.addMembers(path: .init(conversationId: group.id), body: .json(.init(userIds: [choosy.user.id]))).ok.body.json
            #expect(members.items.contains { $0.user.id == choosy.user.id })
        }
    }

    @Test("Nobody belongs to more conversations than the limit: 409 too_many_conversations", arguments: TestBackend.all)
    func conversationCap(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.maxConversationsPerUser = 2 }) { app in
            let owner = try await app.register("owner")
            let popular = try await app.register("popular")
            let api = app.api(token: owner.accessToken)
            _ = try await api.createGroup(body: .json(.init(title: "One", memberIds: [popular.user.id]))).created
            _ = try await api.openDirectConversation(body: .json(.init(userId: popular.user.id))).created
            let third = try await api.createGroup(body: .json(.init(title: "Three", memberIds: [popular.user.id])))
            #expect(try third.conflict.body.applicationProblemJson.code == "too_many_conversations")
            let alone = try await app.register("alone")
            let group = try await app.api(token: alone.accessToken).createGroup(body: .json(.init(title: "Mine"))).created.body.json
            _ = try await app.api(token: alone.accessToken).addMembers(path: .init(conversationId: group.id), body: .json(.init(userIds: [popular.user.id]))).conflict
        }
    }

    // MARK: - Text that must be gone

    @Test("After an edit only the current text is readable; after a delete no trace of it, in history, events or search", arguments: TestBackend.all)
    func deletedTextIsGone(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let bob = try await app.register("bob")
            let api = app.api(token: alice.accessToken)
            let group = try await api.createGroup(body: .json(.init(title: "G", memberIds: [bob.user.id]))).created.body.json.id
            let sent = try await api.sendMessage(path: .init(conversationId: group), body: .json(.init(clientMessageId: "1", body: "first draft zebra"))).created.body.json
            _ = try await api.editMessage(path: .init(messageId: sent.id), body: .json(.init(body: "second draft yak"))).ok
            _ = try await api.editMessage(path: .init(messageId: sent.id), body: .json(.init(body: "final wording xylophone"))).ok

            let log = { () async throws -> String in
                let response = try await app.raw(.get, "/api/v1/conversations/\(group)/events?after=0", headers: [.authorization: "Bearer \(alice.accessToken)"])
                return String(buffer: response.body)
            }
            let edited = try await log()
            #expect(!edited.contains("zebra") && !edited.contains("yak") && edited.contains("xylophone"))
            #expect(edited.components(separatedBy: "final wording xylophone").count - 1 == 3)  // created and both edits

            _ = try await api.deleteMessage(path: .init(messageId: sent.id)).noContent
            let deleted = try await log()
            #expect(!deleted.contains("xylophone") && !deleted.contains("zebra") && !deleted.contains("yak"))
            let history = try await api.listMessages(path: .init(conversationId: group)).ok.body.json.items
            #expect(history.first { $0.id == sent.id }?.body == nil)
            #expect(try await api.searchMessages(query: .init(q: "xylophone")).ok.body.json.items.isEmpty)
            // A member who joins afterwards reads the whole log from the start: still nothing.
            let later = try await app.register("later")
            _ = try await api.addMembers(path: .init(conversationId: group), body: .json(.init(userIds: [later.user.id]))).ok
            let theirs = try await app.raw(.get, "/api/v1/conversations/\(group)/events?after=0", headers: [.authorization: "Bearer \(later.accessToken)"])
            #expect(!String(buffer: theirs.body).contains("xylophone"))
        }
    }

    // MARK: - Last seen

    @Test("lastSeenAt shows to co-members and the user's own contacts, not to strangers, the blocked, or anyone once hidden", arguments: TestBackend.all)
    func lastSeenVisibility(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let member = try await app.register("member")
            let contact = try await app.register("contact")
            let stranger = try await app.register("stranger")
            let aliceID = UUID(uuidString: alice.user.id)!
            try await app.configuration.withStore { store in
                try await store.database.write { sql in
                    try await sql.raw("UPDATE users SET last_seen_at = \(bind: Date(timeIntervalSince1970: 1_800_000_000)) WHERE id = \(bind: aliceID)").run()
                }
            }
            let aliceAPI = app.api(token: alice.accessToken)
            _ = try await aliceAPI.createGroup(body: .json(.init(title: "G", memberIds: [member.user.id]))).created
            _ = try await aliceAPI.putContact(path: .init(userId: contact.user.id)).ok
            // Someone who adds Alice as their contact gains nothing by it.
            _ = try await app.api(token: stranger.accessToken).putContact(path: .init(userId: alice.user.id)).ok
            let seen = { (viewer: ParleyClient.Components.Schemas.AuthSession) async throws -> Bool in
                try await app.api(token: viewer.accessToken).getUser(path: .init(userId: alice.user.id)).ok.body.json.lastSeenAt != nil
            }
            #expect(try await seen(member))
            #expect(try await seen(contact))
            #expect(try await seen(alice))
            #expect(try await !seen(stranger))
            _ = try await aliceAPI.blockUser(path: .init(userId: member.user.id)).ok
            #expect(try await !seen(member))
            _ = try await aliceAPI.updatePreferences(body: .json(.init(privacy: .init(showLastSeen: false)))).ok
            #expect(try await !seen(contact))
            #expect(try await seen(alice))
        }
    }

    // MARK: - Blocks in a direct conversation

    @Test("Someone blocked cannot react, mark as read, or write in the direct conversation; the blocker still can", arguments: TestBackend.all)
    func blocksStopReactionsAndReceipts(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let alice = try await app.register("alice")
            let mallory = try await app.register("mallory")
            let aliceAPI = app.api(token: alice.accessToken)
            let malloryAPI = app.api(token: mallory.accessToken)
            let direct = try await aliceAPI.openDirectConversation(body: .json(.init(userId: mallory.user.id))).created.body.json.id
            let message = try await aliceAPI.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "1", body: "hi"))).created.body.json
            _ = try await aliceAPI.blockUser(path: .init(userId: mallory.user.id)).ok
            _ = try await malloryAPI.addReaction(path: .init(messageId: message.id, emoji: "👍")).forbidden
            _ = try await malloryAPI.markRead(path: .init(conversationId: direct), body: .json(.init(seq: message.seq))).forbidden
            _ = try await malloryAPI.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "2", body: "hey"))).forbidden
            _ = try await aliceAPI.addReaction(path: .init(messageId: message.id, emoji: "👍")).noContent
        }
    }

    // MARK: - Sessions

    @Test("Changing the password spends every reset link sent before", arguments: TestBackend.all)
    func passwordChangeSpendsResetLinks(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("hal", password: "old password")
            // A reset link, as the mailer would store it.
            let token = "pr_" + UUID().uuidString
            try await app.configuration.withStore { store in
                _ = try await store.createPasswordResetToken(
                    email: "hal@example.com",
                    tokenHash: SecretToken.hash(token),
                    expiresAt: Date().addingTimeInterval(3600),
                    now: Date()
                )
            }
            _ = try await app.api(token: session.accessToken).changePassword(body: .json(.init(currentPassword: "old password", newPassword: "new password"))).noContent
            let reset = try await app.api.confirmPasswordReset(body: .json(.init(token: token, newPassword: "attacker's choice")))
            #expect(try reset.badRequest.body.applicationProblemJson.code == "invalid_token")
        }
    }

    @Test("A session ends 90 days after sign-in however much it is used", arguments: TestBackend.all)
    func absoluteSessionLifetime(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withApp(backend, configure: { $0.now = { clock.now } }) { app in
            var session = try await app.register("old", password: "long enough")
            var refresh = session.refreshToken
            // Used every 20 days, so never idle for long.
            for _ in 0..<4 {
                clock.advance(by: 20 * 24 * 3600)
                let pair = try await app.api.refreshTokens(body: .json(.init(refreshToken: refresh))).ok.body.json
                refresh = pair.refreshToken
            }
            clock.advance(by: 11 * 24 * 3600)
            let expired = try await app.api.refreshTokens(body: .json(.init(refreshToken: refresh)))
            #expect(try expired.unauthorized.body.applicationProblemJson.code == "invalid_refresh_token")
            session = try await app.api.login(body: .json(.init(login: "old", password: "long enough"))).ok.body.json
            #expect(try await app.api(token: session.accessToken).listSessions().ok.body.json.items.count == 1)
        }
    }
}
