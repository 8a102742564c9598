import API
import Foundation
import ParleyClient
import TestSupport
import Testing
import App

@Suite("Rate limits on logins and resets", .timeLimit(.minutes(1)))
struct RateLimitTests {
    @Test("Wrong passwords from one address lock that address out of the account with 429 and Retry-After until the window passes", arguments: TestBackend.all)
    func failedLoginsPerAccount(backend: TestBackend) async throws {
        let clock = TestClock()
        try await withApp(backend, configure: { configuration in
            configuration.now = { clock.now }
            configuration.limits.loginsPerAccountAndAddress = .init(limit: 3, window: 600)
        }) { app in
            _ = try await app.register("alice", password: "the right one")
            for _ in 0..<3 {
                _ = try await app.api.login(body: .json(.init(login: "alice", password: "wrong guess"))).unauthorized
            }
            // By email too: the budget is the account's, not the spelling's.
            let limited = try await app.api.login(body: .json(.init(login: "ALICE@example.com", password: "the right one"))).tooManyRequests
            #expect(limited.headers.retryAfter > 0 && limited.headers.retryAfter <= 600)
            #expect(try limited.body.applicationProblemJson.code == "rate_limited")

            clock.advance(by: 601)
            _ = try await app.api.login(body: .json(.init(login: "alice", password: "the right one"))).ok
        }
    }

    @Test("A successful login clears the account's failures", arguments: TestBackend.all)
    func successResetsTheAccountBudget(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.limits.loginsPerAccountAndAddress = .init(limit: 3, window: 600) }) { app in
            _ = try await app.register("bob", password: "the right one")
            for _ in 0..<2 { _ = try await app.api.login(body: .json(.init(login: "bob", password: "nope nope"))).unauthorized }
            _ = try await app.api.login(body: .json(.init(login: "bob", password: "the right one"))).ok
            for _ in 0..<2 { _ = try await app.api.login(body: .json(.init(login: "bob", password: "nope nope"))).unauthorized }
            _ = try await app.api.login(body: .json(.init(login: "bob", password: "the right one"))).ok
        }
    }

    @Test("Wrong passwords across many accounts from one address are limited", arguments: TestBackend.all)
    func failedLoginsPerAddress(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.limits.loginsPerAddress = .init(limit: 4, window: 600) }) { app in
            for name in ["carol", "dave", "erin", "fay"] {
                _ = try await app.api.login(body: .json(.init(login: name, password: "guessing"))).unauthorized
            }
            let limited = try await app.api.login(body: .json(.init(login: "gus", password: "guessing"))).tooManyRequests
            #expect(limited.headers.retryAfter > 0)
        }
    }

    @Test("Wrong current passwords count against the account", arguments: TestBackend.all)
    func passwordChangesShareTheAccountBudget(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.limits.loginsPerAccountAndAddress = .init(limit: 2, window: 600) }) { app in
            let session = try await app.register("hal", password: "the right one")
            let api = app.api(token: session.accessToken)
            for _ in 0..<2 {
                _ = try await api.changePassword(body: .json(.init(currentPassword: "guess guess", newPassword: "new password"))).forbidden
            }
            _ = try await api.changePassword(body: .json(.init(currentPassword: "the right one", newPassword: "new password"))).tooManyRequests
        }
    }

    @Test("Password-reset requests are limited per address", arguments: TestBackend.all)
    func resetRequestsPerAddress(backend: TestBackend) async throws {
        try await withApp(backend, configure: { $0.limits.passwordResetsPerAddress = .init(limit: 2, window: 3600) }) { app in
            for n in 0..<2 {
                _ = try await app.api.requestPasswordReset(body: .json(.init(email: "someone\(n)@example.com"))).accepted
            }
            let limited = try await app.api.requestPasswordReset(body: .json(.init(email: "someone@example.com"))).tooManyRequests
            #expect(limited.headers.retryAfter > 0 && limited.headers.retryAfter <= 3600)
        }
    }
}
