import Foundation
import App
import Models
import Store
import ParleyClient
import TestSupport
import Testing

/// Verifying and changing the e-mail address end to end, the mail going over SMTP to a real server.
@Suite("E-mail addresses", .timeLimit(.minutes(1)))
struct EmailAddressTests {
    static let subject = "Confirm your address for Parley"
    static let changeSubject = "Confirm your new address for Parley"
    static let noticeSubject = "Your Parley address is about to change"

    /// The token in a verification mail's link.
    static func token(in message: SMTPSink.Message) throws -> String { try message.token(of: "verify-email") }

    @Test("Registering mails a single-use link that verifies the address, once, and tells the user's devices", arguments: TestBackend.all)
    func verifyByMail(backend: TestBackend) async throws {
        try await withMailingApp(backend) { app, sink in
            let alice = try await app.register("alice", displayName: "Alice Liddell")
            #expect(!alice.user.emailVerified)
            let mail = try #require(try await sink.waitForMessages(1, subject: Self.subject).first)
            #expect(mail.to == ["alice@example.com"] && mail.text.contains("Hello Alice Liddell"))
            let token = try Self.token(in: mail)
            #expect(token.hasPrefix("ev_") && token.count > 40)
            let api = app.api(token: alice.accessToken)
            #expect(try await api.getMe().ok.body.json.emailVerified == false)

            // The link is the proof: no sign-in needed.
            let verified = try await app.api.verifyEmail(body: .json(.init(token: token))).ok.body.json
            #expect(verified.emailVerified && verified.id == alice.user.id)
            #expect(try await api.getMe().ok.body.json.emailVerified)
            let again = try await app.api.verifyEmail(body: .json(.init(token: token)))
            #expect(try again.badRequest.body.applicationProblemJson.code == "invalid_token")
            let unknown = try await app.api.verifyEmail(body: .json(.init(token: "ev_nothing")))
            #expect(try unknown.badRequest.body.applicationProblemJson.code == "invalid_token")

            let updates = try await app.configuration.withStore { store in
                try await store.events(in: .user(UUID(uuidString: alice.user.id)!), after: 0, limit: 100)
            }.compactMap { event -> User? in
                guard case .userUpdated(let user) = event.payload else { return nil }
                return user
            }
            #expect(updates.map(\.emailVerified) == [true])

            // Verified: a resend mails nothing.
            _ = try await api.resendVerificationEmail().accepted
            try await Task.sleep(for: .milliseconds(300))
            #expect(try sink.messages(subject: Self.subject).count == 1)
        }
    }

    @Test("Resends: a new link each, three an hour, and one link spends the others; links expire after 24 hours", arguments: TestBackend.all)
    func resendAndExpiry(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withMailingApp(backend, clock: clock) { app, sink in
            let bob = try await app.register("bob")
            let api = app.api(token: bob.accessToken)
            for _ in 0..<3 { _ = try await api.resendVerificationEmail().accepted }
            let refused = try await api.resendVerificationEmail()
            #expect(try refused.tooManyRequests.body.applicationProblemJson.code == "rate_limited")
            let tokens = try await sink.waitForMessages(4, subject: Self.subject).map(Self.token(in:))
            #expect(Set(tokens).count == 4)

            // A day later the links are dead.
            clock.advance(by: 24 * 3600 + 1)
            let late = try await app.api.verifyEmail(body: .json(.init(token: tokens[0])))
            #expect(try late.badRequest.body.applicationProblemJson.code == "invalid_token")
            let later = try await app.api.login(body: .json(.init(login: "bob", password: "correct horse battery"))).ok.body.json
            _ = try await app.api(token: later.accessToken).resendVerificationEmail().accepted
            let fresh = try Self.token(in: try #require(try await sink.waitForMessages(5, subject: Self.subject).last))
            _ = try await app.api.verifyEmail(body: .json(.init(token: fresh))).ok
            let spent = try await app.api.verifyEmail(body: .json(.init(token: tokens[3])))
            #expect(try spent.badRequest.body.applicationProblemJson.code == "invalid_token")
        }
    }

    @Test("With --require-verified-email, messages wait for the verified address; everything else works", arguments: TestBackend.all)
    func sendingWaitsForVerification(backend: TestBackend) async throws {
        try await withMailingApp(backend, configure: { $0.accounts.requiresVerifiedEmail = true }) { app, sink in
            let carol = try await app.register("carol")
            let dan = try await app.register("dan")
            let api = app.api(token: carol.accessToken)
            let direct = try await api.openDirectConversation(body: .json(.init(userId: dan.user.id))).created.body.json.id
            let early = try await api.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "1", body: "hi")))
            #expect(try early.forbidden.body.applicationProblemJson.detail?.contains("Confirm your e-mail address") == true)

            let mail = try #require(try await sink.waitForMessages(2, subject: Self.subject).first { $0.to == ["carol@example.com"] })
            _ = try await app.api.verifyEmail(body: .json(.init(token: try Self.token(in: mail)))).ok
            _ = try await api.sendMessage(path: .init(conversationId: direct), body: .json(.init(clientMessageId: "1", body: "hi"))).created
        }
    }

    @Test("A change of address waits for the link mailed to the new one, notifies the old one, and checks again that the address is free", arguments: TestBackend.all)
    func changeAddress(backend: TestBackend) async throws {
        try await withMailingApp(backend) { app, sink in
            let alice = try await app.register("alice")
            _ = try await app.register("bob")
            let api = app.api(token: alice.accessToken)
            func change(to address: String, password: String = "correct horse battery") async throws -> Operations.ChangeEmail.Output {
                try await api.changeEmail(body: .json(.init(newEmail: address, password: password)))
            }
            let wrong = try await change(to: "alice@wonderland.example", password: "not it")
            #expect(try wrong.forbidden.body.applicationProblemJson.code == "invalid_credentials")
            #expect(try await change(to: "BOB@example.com").conflict.body.applicationProblemJson.code == "email_taken")
            #expect(try await change(to: "Alice@Example.com").badRequest.body.applicationProblemJson.errors?.first?.code == "not_allowed")
            #expect(try await change(to: "not an address").badRequest.body.applicationProblemJson.errors?.first?.field == "newEmail")

            // Asked for: a link to the new address, a notice to the old; nothing changes yet.
            _ = try await change(to: "alice@wonderland.example").accepted
            let link = try #require(try await sink.waitForMessages(1, subject: Self.changeSubject).first)
            #expect(link.to == ["alice@wonderland.example"])
            let notice = try #require(try await sink.waitForMessages(1, subject: Self.noticeSubject).first)
            #expect(notice.to == ["alice@example.com"] && notice.text.contains("alice@wonderland.example") && !notice.text.contains("token="))
            #expect(try await api.getMe().ok.body.json.email == "alice@example.com")

            // Someone takes the address before she uses the link: it is checked again, and nothing changes.
            let carol = try await app.api.register(
                body: .json(.init(username: "carol", email: "Alice@Wonderland.example", password: "correct horse battery"))
            ).created.body.json
            let clash = try await app.api.verifyEmail(body: .json(.init(token: try Self.token(in: link))))
            #expect(try clash.conflict.body.applicationProblemJson.code == "email_taken")
            #expect(try await api.getMe().ok.body.json.email == "alice@example.com")
            _ = carol

            // Another address, and a reset link asked for before the move: the link moves her; the reset link dies.
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "alice@example.com"))).accepted
            let reset = try #require(try await sink.waitForMessages(1, subject: "Reset your Parley password").first)
            let resetToken = try reset.token(of: "reset-password")
            _ = try await change(to: "alice@looking-glass.example").accepted
            let second = try #require(try await sink.waitForMessages(2, subject: Self.changeSubject).last)
            let moved = try await app.api.verifyEmail(body: .json(.init(token: try Self.token(in: second)))).ok.body.json
            #expect(moved.email == "alice@looking-glass.example" && moved.emailVerified)
            #expect(try await api.getMe().ok.body.json.email == "alice@looking-glass.example")
            _ = try await app.api.login(body: .json(.init(login: "alice@looking-glass.example", password: "correct horse battery"))).ok
            _ = try await app.api.login(body: .json(.init(login: "alice@example.com", password: "correct horse battery"))).unauthorized
            let staleReset = try await app.api.confirmPasswordReset(body: .json(.init(token: resetToken, newPassword: "a brand new passphrase")))
            #expect(try staleReset.badRequest.body.applicationProblemJson.code == "invalid_token")
            // The first link was spent with the second.
            let first = try await app.api.verifyEmail(body: .json(.init(token: try Self.token(in: link))))
            #expect(try first.badRequest.body.applicationProblemJson.code == "invalid_token")
            // The old address is free again.
            _ = try await app.api.register(body: .json(.init(username: "alice2", email: "alice@example.com", password: "correct horse battery"))).created

            let updates = try await app.configuration.withStore { store in
                try await store.events(in: .user(UUID(uuidString: alice.user.id)!), after: 0, limit: 100)
            }.compactMap { event -> User? in
                guard case .userUpdated(let user) = event.payload else { return nil }
                return user
            }
            #expect(updates.map(\.email) == ["alice@looking-glass.example"])
        }
    }
}
