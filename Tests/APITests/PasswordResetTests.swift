import Foundation
import ParleyClient
import TestSupport
import Testing
import App

/// Password reset end to end, with the mail going over SMTP to a real server.
@Suite("Password reset by mail", .timeLimit(.minutes(1)))
struct PasswordResetTests {
    /// Registering mails a verification link too: reset mails are told by their subject.
    static let resetSubject = "Reset your Parley password"

    /// The token in a reset mail's link.
    static func token(in message: SMTPSink.Message) throws -> String { try message.token(of: "reset-password") }

    @Test("The mailed link resets the password once and signs out every session", arguments: TestBackend.all)
    func resetByMail(backend: TestBackend) async throws {
        try await withMailingApp(backend) { app, sink in
            let session = try await app.register("alice", password: "forgotten one", displayName: "Alice Liddell")
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "ALICE@example.com"))).accepted
            let mail = try #require(try await sink.waitForMessages(1, subject: Self.resetSubject).first)
            #expect(mail.to == ["alice@example.com"])
            #expect(mail.from == "noreply@example.com")
            #expect(mail.subject == "Reset your Parley password")
            #expect(mail.text.contains("Hello Alice Liddell"))
            let token = try Self.token(in: mail)
            #expect(token.hasPrefix("pr_") && token.count > 40)

            _ = try await app.api.confirmPasswordReset(body: .json(.init(token: token, newPassword: "a brand new one"))).noContent
            _ = try await app.api(token: session.accessToken).getMe().unauthorized
            _ = try await app.api.refreshTokens(body: .json(.init(refreshToken: session.refreshToken))).unauthorized
            _ = try await app.api.login(body: .json(.init(login: "alice", password: "forgotten one"))).unauthorized
            _ = try await app.api.login(body: .json(.init(login: "alice", password: "a brand new one"))).ok

            let again = try await app.api.confirmPasswordReset(body: .json(.init(token: token, newPassword: "yet another one")))
            #expect(try again.badRequest.body.applicationProblemJson.code == "invalid_token")
            let unknown = try await app.api.confirmPasswordReset(body: .json(.init(token: "pr_made_up", newPassword: "yet another one")))
            #expect(try unknown.badRequest.body.applicationProblemJson.code == "invalid_token")
        }
    }

    @Test("An address without an account gets 202 and no mail", arguments: TestBackend.all)
    func unknownAddressesGetNoMail(backend: TestBackend) async throws {
        try await withMailingApp(backend) { app, sink in
            _ = try await app.register("bob")
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "nobody@example.com"))).accepted
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "bob@example.com"))).accepted
            // Requests are handled in order, so once Bob's mail is here the first request is done too.
            let messages = try await sink.waitForMessages(1, subject: Self.resetSubject)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try sink.messages(subject: Self.resetSubject).count == 1)
            #expect(messages.first?.to == ["bob@example.com"])
        }
    }

    @Test("A reset link expires after one hour", arguments: TestBackend.all)
    func linksExpire(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withMailingApp(backend, clock: clock) { app, sink in
            _ = try await app.register("carol")
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "carol@example.com"))).accepted
            let token = try Self.token(in: try #require(try await sink.waitForMessages(1, subject: Self.resetSubject).first))
            clock.advance(by: 3601)
            let late = try await app.api.confirmPasswordReset(body: .json(.init(token: token, newPassword: "too late for this")))
            #expect(try late.badRequest.body.applicationProblemJson.code == "invalid_token")
        }
    }

    @Test("Using one link spends every other outstanding link; a refused password spends none", arguments: TestBackend.all)
    func oneLinkSpendsTheOthers(backend: TestBackend) async throws {
        try await withMailingApp(backend) { app, sink in
            _ = try await app.register("dave")
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "dave@example.com"))).accepted
            _ = try await app.api.requestPasswordReset(body: .json(.init(email: "dave@example.com"))).accepted
            let tokens = try await sink.waitForMessages(2, subject: Self.resetSubject).map(Self.token(in:))
            #expect(Set(tokens).count == 2)

            let weak = try await app.api.confirmPasswordReset(body: .json(.init(token: tokens[0], newPassword: "short")))
            #expect(try weak.badRequest.body.applicationProblemJson.code == "validation_failed")
            _ = try await app.api.confirmPasswordReset(body: .json(.init(token: tokens[0], newPassword: "long enough now"))).noContent
            let other = try await app.api.confirmPasswordReset(body: .json(.init(token: tokens[1], newPassword: "another good one")))
            #expect(try other.badRequest.body.applicationProblemJson.code == "invalid_token")
        }
    }

    @Test("A malformed address is 400, not 202", arguments: TestBackend.all)
    func malformedAddress(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let response = try await app.api.requestPasswordReset(body: .json(.init(email: "not an address")))
            #expect(try response.badRequest.body.applicationProblemJson.errors?.map(\.field) == ["email"])
        }
    }
}
