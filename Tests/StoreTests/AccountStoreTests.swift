import Foundation
import Models
import SQLKit
import Store
import TestSupport
import Testing

@Suite("Accounts and sessions in the store", .timeLimit(.minutes(1)))
struct AccountStoreTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func session(_ hash: String = UUID().uuidString, expiresAt: Date = now.addingTimeInterval(3600)) -> NewSession {
        NewSession(deviceName: "laptop", userAgent: "tests", refreshToken: RefreshTokenRecord(hash: hash, expiresAt: expiresAt))
    }

    static func account(_ username: String, _ email: String) -> NewAccount {
        NewAccount(username: username, email: email, displayName: username, passwordHash: "hash")
    }

    @Test("Usernames and emails are unique regardless of case", arguments: TestBackend.all)
    func usernamesAndEmailsAreUnique(backend: TestBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.register(Self.account("alice", "Alice@Example.com"), session: Self.session(), now: Self.now)
            await #expect(throws: Problem.usernameTaken) {
                _ = try await store.register(Self.account("alice", "other@example.com"), session: Self.session(), now: Self.now)
            }
            await #expect(throws: Problem.emailTaken) {
                _ = try await store.register(Self.account("alice2", "ALICE@example.COM"), session: Self.session(), now: Self.now)
            }
            #expect(try await store.credentials(forLogin: "alice@EXAMPLE.com") != nil)
            #expect(try await store.credentials(forLogin: "ALICE") != nil)
            #expect(try await store.credentials(forLogin: "bob") == nil)
        }
    }

    @Test("Ten concurrent registrations of one username make one account", arguments: TestBackend.all)
    func concurrentRegistrationsOfOneUsernameMakeOneAccount(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<10 {
                    group.addTask {
                        do {
                            _ = try await store.register(Self.account("carol", "carol\(n)@example.com"), session: Self.session(), now: Self.now)
                            return "created"
                        } catch let problem as Problem {
                            return problem.code.rawValue
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "created" }.count == 1)
            #expect(outcomes.filter { $0 == "username_taken" }.count == 9)
        }
    }

    @Test("A refresh token rotates once; presenting it again revokes the session", arguments: TestBackend.all)
    func refreshTokenReuseRevokesTheSession(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let (user, session) = try await store.register(Self.account("dave", "dave@example.com"), session: Self.session("t1"), now: Self.now)
            let later = Self.now.addingTimeInterval(60)
            let next = RefreshTokenRecord(hash: "t2", expiresAt: later.addingTimeInterval(3600))
            #expect(try await store.rotateRefreshToken(presentedHash: "t1", successor: next, now: later) == .rotated(sessionID: session.id, userID: user.id))

            let stolen = RefreshTokenRecord(hash: "t3", expiresAt: later.addingTimeInterval(3600))
            #expect(try await store.rotateRefreshToken(presentedHash: "t1", successor: stolen, now: later) == .reused(sessionID: session.id))
            #expect(try await store.sessionStatus(id: session.id)?.isRevoked == true)
            // The live successor dies with its session.
            let after = RefreshTokenRecord(hash: "t4", expiresAt: later.addingTimeInterval(3600))
            #expect(try await store.rotateRefreshToken(presentedHash: "t2", successor: after, now: later) == .invalid)

            let events = try await store.events(in: .user(user.id), after: 0, limit: 10)
            #expect(events.map(\.type) == [.sessionRevoked])
            #expect(events[0].payload == .sessionRevoked(SessionRevokedData(sessionID: session.id, reason: .refreshTokenReuse)))
        }
    }

    @Test("Expired and unknown refresh tokens are invalid", arguments: TestBackend.all)
    func expiredAndUnknownRefreshTokensAreInvalid(backend: TestBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.register(
                Self.account("erin", "erin@example.com"),
                session: Self.session("old", expiresAt: Self.now.addingTimeInterval(10)),
                now: Self.now
            )
            let next = RefreshTokenRecord(hash: "new", expiresAt: Self.now.addingTimeInterval(3600))
            #expect(try await store.rotateRefreshToken(presentedHash: "old", successor: next, now: Self.now.addingTimeInterval(11)) == .invalid)
            #expect(try await store.rotateRefreshToken(presentedHash: "never", successor: next, now: Self.now) == .invalid)
        }
    }

    @Test("Concurrent refreshes with one token: exactly one rotates", arguments: TestBackend.all)
    func concurrentRefreshesRotateOnce(backend: TestBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.register(Self.account("fay", "fay@example.com"), session: Self.session("shared"), now: Self.now)
            let outcomes = try await withThrowingTaskGroup(of: RefreshOutcome.self) { group in
                for n in 0..<8 {
                    group.addTask {
                        try await store.rotateRefreshToken(
                            presentedHash: "shared",
                            successor: RefreshTokenRecord(hash: "next\(n)", expiresAt: Self.now.addingTimeInterval(3600)),
                            now: Self.now
                        )
                    }
                }
                return try await group.reduce(into: [RefreshOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .rotated = $0 { true } else { false } }.count == 1)
        }
    }

    @Test("Changing the password revokes every session but the current one", arguments: TestBackend.all)
    func changingThePasswordRevokesOtherSessions(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let (user, first) = try await store.register(Self.account("gus", "gus@example.com"), session: Self.session(), now: Self.now)
            let second = try await store.createSession(userID: user.id, Self.session(), now: Self.now.addingTimeInterval(1))
            let third = try await store.createSession(userID: user.id, Self.session(), now: Self.now.addingTimeInterval(2))
            let revoked = try await store.changePassword(userID: user.id, newHash: "new-hash", keeping: second.id, now: Self.now)
            #expect(Set(revoked) == [first.id, third.id])
            #expect(try await store.activeSessions(of: user.id, now: Self.now).map(\.id) == [second.id])
            #expect(try await store.passwordHash(of: user.id) == "new-hash")
        }
    }

    @Test("A reset token works once, spends its siblings and revokes every session", arguments: TestBackend.all)
    func resetTokensAreSingleUse(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let (user, session) = try await store.register(Self.account("hal", "hal@example.com"), session: Self.session(), now: Self.now)
            #expect(try await store.createPasswordResetToken(email: "nobody@example.com", tokenHash: "x", expiresAt: Self.now.addingTimeInterval(3600), now: Self.now) == nil)
            let recipient = try await store.createPasswordResetToken(email: "HAL@example.com", tokenHash: "r1", expiresAt: Self.now.addingTimeInterval(3600), now: Self.now)
            #expect(recipient?.userID == user.id)
            #expect(recipient?.email == "hal@example.com")
            _ = try await store.createPasswordResetToken(email: "hal@example.com", tokenHash: "r2", expiresAt: Self.now.addingTimeInterval(3600), now: Self.now)

            #expect(try await store.isPasswordResetTokenLive(hash: "r1", now: Self.now))
            #expect(try await store.isPasswordResetTokenLive(hash: "r1", now: Self.now.addingTimeInterval(3601)) == false)
            #expect(try await store.resetPassword(tokenHash: "r1", newHash: "reset-hash", now: Self.now)?.revoked == [session.id])
            #expect(try await store.resetPassword(tokenHash: "r1", newHash: "again", now: Self.now) == nil)
            #expect(try await store.resetPassword(tokenHash: "r2", newHash: "again", now: Self.now) == nil)
            #expect(try await store.passwordHash(of: user.id) == "reset-hash")
            #expect(try await store.activeSessions(of: user.id, now: Self.now).isEmpty)
        }
    }

    @Test("Updating the profile changes only the given fields and logs user.updated", arguments: TestBackend.all)
    func updatingTheProfileLogsAnEvent(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let (user, _) = try await store.register(Self.account("ida", "ida@example.com"), session: Self.session(), now: Self.now)
            let renamed = try await store.updateProfile(userID: user.id, displayName: "Ida I.", bio: nil, now: Self.now)
            #expect(renamed?.displayName == "Ida I.")
            let described = try await store.updateProfile(userID: user.id, displayName: nil, bio: "Hello", now: Self.now)
            #expect(described?.displayName == "Ida I.")
            #expect(described?.bio == "Hello")
            #expect(try await store.updateProfile(userID: UUID(), displayName: "x", bio: nil, now: Self.now) == nil)

            let events = try await store.events(in: .user(user.id), after: 0, limit: 10)
            #expect(events.map(\.type) == [.userUpdated, .userUpdated])
            guard case .userUpdated(let last) = events[1].payload else { throw TestSetupError("not user.updated") }
            #expect(last.bio == "Hello")
            #expect(last.id == user.id)
        }
    }

    @Test("Nodes starting together make exactly one signing key", arguments: TestBackend.all)
    func concurrentKeyBootstrapMakesOneKey(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let seen = try await withThrowingTaskGroup(of: [SigningKeyRecord].self) { group in
                for n in 0..<6 {
                    group.addTask {
                        try await store.ensureSigningKey {
                            SigningKeyRecord(kid: "k\(n)", algorithm: "EdDSA", privateKey: "key\(n)", createdAt: Self.now)
                        }
                    }
                }
                return try await group.reduce(into: [[SigningKeyRecord]]()) { $0.append($1) }
            }
            #expect(seen.allSatisfy { $0.count == 1 && $0 == seen[0] })
        }
    }

    @Test("Pruning deletes expired tokens and dead sessions, and nothing live", arguments: TestBackend.all)
    func pruningDeletesOnlyTheDead(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let (user, live) = try await store.register(Self.account("jo", "jo@example.com"), session: Self.session("live"), now: Self.now)
            let revoked = try await store.createSession(userID: user.id, Self.session("gone", expiresAt: Self.now.addingTimeInterval(10)), now: Self.now)
            #expect(try await store.revokeSession(id: revoked.id, of: user.id, reason: .logout, now: Self.now))
            let report = try await store.pruneExpired(now: Self.now.addingTimeInterval(2 * 24 * 3600))
            #expect(report.sessions == 1)
            #expect(report.refreshTokens == 2)
            #expect(try await store.sessionStatus(id: live.id) != nil)
            #expect(try await store.sessionStatus(id: revoked.id) == nil)
        }
    }

    @Test("Pruning works through more than a batch, all of it, in batches of its own", arguments: TestBackend.all)
    func pruningInBatches(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let (user, _) = try await store.register(Self.account("many", "many@example.com"), session: Self.session("live"), now: Self.now)
            let expired = Self.now.addingTimeInterval(60)
            for batch in 0..<5 {
                try await store.database.write { sql in
                    var query = SQLQueryString("INSERT INTO password_reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ")
                    for n in 0..<500 {
                        query = query + (n == 0 ? "" : ", ") + "(\(bind: "h\(batch)-\(n)"), \(bind: user.id), \(bind: Self.now), \(bind: expired))"
                    }
                    try await sql.raw(query).run()
                }
            }
            let report = try await store.pruneExpired(now: Self.now.addingTimeInterval(3600))
            #expect(report.resetTokens == 2_500)
            #expect(try await store.pruneExpired(now: Self.now.addingTimeInterval(3600)).resetTokens == 0)
        }
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
