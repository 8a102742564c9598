import Auth
import Foundation
import Models
import Store

extension APIImplementation {
    /// How long a refresh token may wait to be used.
    static let refreshTokenLifetime: TimeInterval = 30 * 24 * 3600

    func register(_ input: Operations.Register.Input) async throws -> Operations.Register.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let username = validator.check("username", body.username, FieldRules.username)
        let email = validator.check("email", body.email, FieldRules.email)
        let password = validator.check("password", body.password, FieldRules.newPassword)
        let displayName = validator.check("displayName", body.displayName, FieldRules.displayName)
        let deviceName = validator.check("deviceName", body.deviceName, FieldRules.deviceName)
        try validator.finish()

        if let wait = limiters.registrationsPerAddress.take(Limiters.addressKey) { throw Problem.rateLimited(retryAfter: wait) }
        // A taken name or address is refused before any hashing is spent on it.
        try await store.checkAvailable(username: username, email: email)
        let account = NewAccount(
            username: username,
            email: email,
            displayName: displayName ?? username,
            passwordHash: try await passwords.hash(password)
        )
        let refresh = SecretToken.generate(prefix: "rt_")
        let now = now()
        let (user, session) = try await store.register(
            account,
            session: newSession(deviceName: deviceName, refreshHash: refresh.hash, now: now),
            now: now
        )
        let accessToken = try await tokens.issue(userID: user.id, sessionID: session.id, now: now)
        accountMail.requestVerification(userID: user.id)
        return .created(
            .init(body: .json(.init(user, session: session, accessToken: accessToken, refreshToken: refresh.token, expiresIn: tokens.lifetime)))
        )
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let deviceName = validator.check("deviceName", body.deviceName, FieldRules.deviceName)
        try validator.finish()

        let credentials = try await store.credentials(forLogin: body.login)
        // Attempts count against the account (or, for an unknown login, the login as typed) before hashing.
        let accountKey = credentials.map { $0.userID.lowercased } ?? "login:" + body.login.lowercased()
        try await takePasswordAttempt(account: accountKey, user: credentials?.userID)
        let verified: Bool
        if let credentials {
            verified = try await passwords.verify(body.password, against: credentials.passwordHash)
        } else {
            try await passwords.verifyDecoy(body.password)
            verified = false
        }
        guard verified, let credentials else { throw Problem.invalidCredentials }
        limiters.loginSucceeded(account: accountKey)

        let refresh = SecretToken.generate(prefix: "rt_")
        let now = now()
        let session = try await store.createSession(
            userID: credentials.userID,
            newSession(deviceName: deviceName, refreshHash: refresh.hash, now: now),
            now: now
        )
        guard let user = try await store.user(id: credentials.userID) else { throw Problem.invalidCredentials }
        let accessToken = try await tokens.issue(userID: user.id, sessionID: session.id, now: now)
        return .ok(.init(body: .json(.init(user, session: session, accessToken: accessToken, refreshToken: refresh.token, expiresIn: tokens.lifetime))))
    }

    func refreshTokens(_ input: Operations.RefreshTokens.Input) async throws -> Operations.RefreshTokens.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        let successor = try tokens.successor(ofRefreshToken: body.refreshToken)
        let now = now()
        let outcome = try await store.rotateRefreshToken(
            presentedHash: SecretToken.hash(body.refreshToken),
            successor: RefreshTokenRecord(hash: SecretToken.hash(successor), expiresAt: now.addingTimeInterval(Self.refreshTokenLifetime)),
            now: now
        )
        let (sessionID, userID, issuedAt): (UUID, UUID, Date)
        switch outcome {
        case .rotated(let session, let user):
            (sessionID, userID, issuedAt) = (session, user, now)
        case .retried(let session, let user, let rotatedAt):
            // The same pair as the first answer: the successor is derived, and the access token signed
            // deterministically from the same claims.
            (sessionID, userID, issuedAt) = (session, user, rotatedAt)
        case .reused(let sessionID):
            authenticator.sessionEnded(sessionID)
            security("refresh_token_reuse", "A spent refresh token was presented again; its session is revoked", session: sessionID)
            throw Problem.invalidRefreshToken
        case .invalid:
            throw Problem.invalidRefreshToken
        }
        let accessToken = try await tokens.issue(userID: userID, sessionID: sessionID, now: issuedAt)
        let expiresIn = Int(issuedAt.addingTimeInterval(tokens.lifetime).timeIntervalSince(now).rounded(.down))
        return .ok(.init(body: .json(.init(accessToken: accessToken, refreshToken: successor, expiresIn: expiresIn))))
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let identity = try identity()
        _ = try await store.revokeSession(id: identity.sessionID, of: identity.userID, reason: .logout, now: now())
        authenticator.sessionEnded(identity.sessionID)
        return .noContent(.init())
    }

    func listSessions(_ input: Operations.ListSessions.Input) async throws -> Operations.ListSessions.Output {
        let identity = try identity()
        let sessions = try await store.activeSessions(of: identity.userID, now: now())
        return .ok(
            .init(body: .json(.init(items: sessions.map { .init($0, current: $0.id == identity.sessionID) })))
        )
    }

    func revokeSession(_ input: Operations.RevokeSession.Input) async throws -> Operations.RevokeSession.Output {
        let identity = try identity()
        guard let sessionID = UUID(text: input.path.sessionId),
            try await store.revokeSession(id: sessionID, of: identity.userID, reason: .revoked, now: now())
        else { throw Problem.notFound("No such session.") }
        authenticator.sessionEnded(sessionID)
        return .noContent(.init())
    }

    func changePassword(_ input: Operations.ChangePassword.Input) async throws -> Operations.ChangePassword.Output {
        let identity = try identity()
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let newPassword = validator.check("newPassword", body.newPassword, FieldRules.newPassword)
        try validator.finish()

        try await requirePassword(body.currentPassword, of: identity)
        let revoked = try await store.changePassword(
            userID: identity.userID,
            newHash: try await passwords.hash(newPassword),
            keeping: identity.sessionID,
            now: now()
        )
        revoked.forEach(authenticator.sessionEnded)
        security("password_changed", "The password was changed; other sessions are revoked", user: identity.userID)
        return .noContent(.init())
    }

    /// Counts a password attempt on `account` (see `Limiters.takeLoginAttempt`). A refusal is logged
    /// as a security event once a minute per account, and answered after `Limiters.refusalDelay`.
    func takePasswordAttempt(account: String, user: UUID?) async throws {
        do {
            try limiters.takeLoginAttempt(account: account)
        } catch {
            if limiters.refusalLogs.take(account) == nil {
                security("login_rate_limited", "Password attempts over the limit are being refused", user: user)
            }
            try? await Task.sleep(for: Limiters.refusalDelay)
            throw error
        }
    }

    /// Checks the caller's own password, within the sign-in limits: 403 `invalid_credentials` when wrong.
    func requirePassword(_ password: String, of identity: Identity) async throws {
        let accountKey = identity.userID.lowercased
        try await takePasswordAttempt(account: accountKey, user: identity.userID)
        guard let currentHash = try await store.passwordHash(of: identity.userID) else { throw Problem.unauthorized }
        guard try await passwords.verify(password, against: currentHash) else {
            throw HTTPProblem(.wrongCurrentPassword, status: 403)
        }
        limiters.loginSucceeded(account: accountKey)
    }

    func requestPasswordReset(
        _ input: Operations.RequestPasswordReset.Input
    ) async throws -> Operations.RequestPasswordReset.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let email = validator.check("email", body.email, FieldRules.email)
        try validator.finish()

        let addressKey = Limiters.addressKey
        if let wait = limiters.passwordResetsPerAddress.retryAfter(addressKey) {
            throw Problem.rateLimited(retryAfter: wait)
        }
        limiters.passwordResetsPerAddress.record(addressKey)
        accountMail.requestReset(email: email)
        return .accepted(.init())
    }

    func verifyEmail(_ input: Operations.VerifyEmail.Input) async throws -> Operations.VerifyEmail.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        guard let user = try await store.useEmailToken(tokenHash: SecretToken.hash(body.token), now: now()) else {
            throw Problem.invalidEmailToken
        }
        return .ok(.init(body: .json(user)))
    }

    func resendVerificationEmail(
        _ input: Operations.ResendVerificationEmail.Input
    ) async throws -> Operations.ResendVerificationEmail.Output {
        let identity = try identity()
        if let wait = limiters.verificationResendsPerUser.take(identity.userID.lowercased) { throw Problem.rateLimited(retryAfter: wait) }
        accountMail.requestVerification(userID: identity.userID)
        return .accepted(.init())
    }

    func confirmPasswordReset(
        _ input: Operations.ConfirmPasswordReset.Input
    ) async throws -> Operations.ConfirmPasswordReset.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("Send a JSON body.") }
        var validator = Validator()
        let newPassword = validator.check("newPassword", body.newPassword, FieldRules.newPassword)
        try validator.finish()

        let tokenHash = SecretToken.hash(body.token)
        // Refuse dead tokens before spending a bcrypt hash on the new password.
        guard try await store.isPasswordResetTokenLive(hash: tokenHash, now: now()) else {
            throw Problem.invalidResetToken
        }
        let newHash = try await passwords.hash(newPassword)
        guard let (userID, revoked) = try await store.resetPassword(tokenHash: tokenHash, newHash: newHash, now: now()) else {
            throw Problem.invalidResetToken
        }
        revoked.forEach(authenticator.sessionEnded)
        security("password_reset", "The password was reset with a mailed link; every session is revoked", user: userID)
        return .noContent(.init())
    }

    private func newSession(deviceName: String?, refreshHash: String, now: Date) -> NewSession {
        NewSession(
            deviceName: deviceName.flatMap { $0.isEmpty ? nil : $0 },
            userAgent: RequestInfo.current?.userAgent.map { String($0.prefix(256)) },
            refreshToken: RefreshTokenRecord(hash: refreshHash, expiresAt: now.addingTimeInterval(Self.refreshTokenLifetime))
        )
    }
}
