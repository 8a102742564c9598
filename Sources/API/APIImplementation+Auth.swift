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
        // Failures count against the account (or, for an unknown login, the login as typed) and the address.
        let accountKey = credentials.map { $0.userID.lowercased } ?? body.login.lowercased()
        let addressKey = Limiters.addressKey
        if let wait = [
            limiters.failedLoginsPerAccount.retryAfter(accountKey),
            limiters.failedLoginsPerAddress.retryAfter(addressKey),
        ].compactMap({ $0 }).max() {
            throw Problem.rateLimited(retryAfter: wait)
        }
        let verified: Bool
        if let credentials {
            verified = try await passwords.verify(body.password, against: credentials.passwordHash)
        } else {
            try await passwords.verifyDecoy(body.password)
            verified = false
        }
        guard verified, let credentials else {
            limiters.failedLoginsPerAccount.record(accountKey)
            limiters.failedLoginsPerAddress.record(addressKey)
            throw Problem.invalidCredentials
        }
        limiters.failedLoginsPerAccount.reset(accountKey)

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
        let successor = SecretToken.generate(prefix: "rt_")
        let now = now()
        let outcome = try await store.rotateRefreshToken(
            presentedHash: SecretToken.hash(body.refreshToken),
            successor: RefreshTokenRecord(hash: successor.hash, expiresAt: now.addingTimeInterval(Self.refreshTokenLifetime)),
            now: now
        )
        switch outcome {
        case .rotated(let sessionID, let userID):
            let accessToken = try await tokens.issue(userID: userID, sessionID: sessionID, now: now)
            return .ok(
                .init(
                    body: .json(
                        .init(
                            accessToken: accessToken,
                            refreshToken: successor.token,
                            expiresIn: Int(tokens.lifetime)
                        )
                    )
                )
            )
        case .reused(let sessionID):
            authenticator.sessionEnded(sessionID)
            throw Problem.invalidRefreshToken
        case .invalid:
            throw Problem.invalidRefreshToken
        }
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
        guard let sessionID = UUID(uuidString: input.path.sessionId),
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

        let accountKey = identity.userID.lowercased
        if let wait = limiters.failedLoginsPerAccount.retryAfter(accountKey) {
            throw Problem.rateLimited(retryAfter: wait)
        }
        guard let currentHash = try await store.passwordHash(of: identity.userID) else { throw Problem.unauthorized }
        guard try await passwords.verify(body.currentPassword, against: currentHash) else {
            limiters.failedLoginsPerAccount.record(accountKey)
            throw HTTPProblem(.wrongCurrentPassword, status: 403)
        }
        let revoked = try await store.changePassword(
            userID: identity.userID,
            newHash: try await passwords.hash(newPassword),
            keeping: identity.sessionID,
            now: now()
        )
        revoked.forEach(authenticator.sessionEnded)
        return .noContent(.init())
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
        passwordResets.request(email: email)
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
        guard let revoked = try await store.resetPassword(tokenHash: tokenHash, newHash: newHash, now: now()) else {
            throw Problem.invalidResetToken
        }
        revoked.forEach(authenticator.sessionEnded)
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
