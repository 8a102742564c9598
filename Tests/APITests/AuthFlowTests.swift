import Foundation
import ParleyClient
import HTTPTypes
import TestSupport
import Testing

@Suite("Accounts and sessions over REST", .timeLimit(.minutes(1)))
struct AuthFlowTests {
    @Test("Registering signs in: the tokens work and the user is as given", arguments: TestBackend.all)
    func registeringSignsIn(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let response = try await app.api(headers: [.userAgent: "parley-tests/1.0"]).register(
                body: .json(.init(username: "Alice_1", email: "Alice@Example.com", password: "correct horse battery", displayName: "  Alice  ", deviceName: "laptop"))
            )
            let session = try response.created.body.json
            #expect(session.user.username == "alice_1")
            #expect(session.user.displayName == "Alice")
            #expect(session.user.email == "Alice@Example.com")
            #expect(session.expiresIn == 900)
            #expect(session.refreshToken.hasPrefix("rt_"))

            let me = try await app.api(token: session.accessToken).getMe().ok.body.json
            #expect(me == session.user)
            let sessions = try await app.api(token: session.accessToken).listSessions().ok.body.json.items
            #expect(sessions.count == 1)
            #expect(sessions[0].id == session.sessionId)
            #expect(sessions[0].deviceName == "laptop")
            #expect(sessions[0].userAgent == "parley-tests/1.0")
            #expect(sessions[0].current)
        }
    }

    @Test("The display name defaults to the username", arguments: TestBackend.all)
    func displayNameDefaultsToUsername(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("bob")
            #expect(session.user.displayName == "bob")
            #expect(session.user.bio == nil)
        }
    }

    @Test("Usernames and emails are taken regardless of case", arguments: TestBackend.all)
    func takenUsernamesAndEmailsAnswer409(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            _ = try await app.register("carol")
            let sameName = try await app.api.register(body: .json(.init(username: "CAROL", email: "other@example.com", password: "correct horse battery")))
            #expect(try sameName.conflict.body.applicationProblemJson.code == "username_taken")
            let sameEmail = try await app.api.register(body: .json(.init(username: "carol2", email: "CAROL@example.com", password: "correct horse battery")))
            #expect(try sameEmail.conflict.body.applicationProblemJson.code == "email_taken")
        }
    }

    @Test("Every invalid field is listed", arguments: TestBackend.all)
    func invalidRegistrationListsEveryField(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let response = try await app.api.register(
                body: .json(.init(username: "a b", email: "not-an-email", password: "short", displayName: "   "))
            )
            let problem = try response.badRequest.body.applicationProblemJson
            #expect(problem.code == "validation_failed")
            #expect(problem.status == 400)
            let fields = Dictionary(uniqueKeysWithValues: (problem.errors ?? []).map { ($0.field, $0.code) })
            #expect(fields == ["username": "invalid_characters", "email": "invalid_format", "password": "too_short", "displayName": "required"])
        }
    }

    @Test("Username, password and name limits", arguments: TestBackend.all)
    func lengthLimits(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let long = try await app.api.register(
                body: .json(.init(username: String(repeating: "a", count: 33), email: "x@example.com", password: String(repeating: "p", count: 129)))
            )
            let fields = Dictionary(uniqueKeysWithValues: (try long.badRequest.body.applicationProblemJson.errors ?? []).map { ($0.field, $0.code) })
            #expect(fields == ["username": "too_long", "password": "too_long"])
            // The boundaries themselves are fine; an emoji password counts characters, not bytes.
            let edge = try await app.api.register(
                body: .json(.init(username: "a.b_" + String(repeating: "9", count: 28), email: "y@example.com", password: String(repeating: "🔑", count: 8)))
            )
            #expect(try edge.created.body.json.user.username.count == 32)
        }
    }

    @Test("Login works by username or email in any case; a wrong password is 401", arguments: TestBackend.all)
    func loginByUsernameOrEmail(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            _ = try await app.register("dave", password: "dave's password")
            let byName = try await app.api.login(body: .json(.init(login: "DAVE", password: "dave's password", deviceName: "phone")))
            let session = try byName.ok.body.json
            #expect(session.user.username == "dave")
            let byEmail = try await app.api.login(body: .json(.init(login: "Dave@EXAMPLE.com", password: "dave's password")))
            #expect(try byEmail.ok.body.json.user.username == "dave")

            let wrong = try await app.api.login(body: .json(.init(login: "dave", password: "not the password")))
            let unauthorized = try wrong.unauthorized
            #expect(unauthorized.headers.wwwAuthenticate.hasPrefix("Bearer"))
            #expect(try unauthorized.body.applicationProblemJson.code == "invalid_credentials")
            let unknown = try await app.api.login(body: .json(.init(login: "nobody", password: "whatever it is")))
            #expect(try unknown.unauthorized.body.applicationProblemJson.code == "invalid_credentials")

            let sessions = try await app.api(token: session.accessToken).listSessions().ok.body.json.items
            #expect(sessions.count == 3)
            #expect(sessions.filter(\.current).map(\.id) == [session.sessionId])
            #expect(sessions.first { $0.current }?.deviceName == "phone")
        }
    }

    @Test("A refresh token is single-use; a retry gets the same pair, a later reuse revokes the whole session", arguments: TestBackend.all)
    func refreshRotatesAndDetectsReuse(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let first = try await app.register("erin")
            let pair = try await app.api.refreshTokens(body: .json(.init(refreshToken: first.refreshToken))).ok.body.json
            #expect(pair.refreshToken != first.refreshToken)
            #expect(pair.expiresIn == 900)
            #expect(try await app.api(token: pair.accessToken).getMe().ok.body.json.username == "erin")

            // A client that lost the answer and asks again at once gets the same pair.
            let retry = try await app.api.refreshTokens(body: .json(.init(refreshToken: first.refreshToken))).ok.body.json
            #expect(retry.refreshToken == pair.refreshToken && retry.accessToken == pair.accessToken)
            let newer = try await app.api.refreshTokens(body: .json(.init(refreshToken: pair.refreshToken))).ok.body.json

            // Once its successor is spent, the old token coming back means a copy is in other hands.
            let replay = try await app.api.refreshTokens(body: .json(.init(refreshToken: first.refreshToken)))
            #expect(try replay.unauthorized.body.applicationProblemJson.code == "invalid_refresh_token")
            // The session is gone: its newest refresh token and its access tokens die with it.
            let next = try await app.api.refreshTokens(body: .json(.init(refreshToken: newer.refreshToken)))
            #expect(try next.unauthorized.body.applicationProblemJson.code == "invalid_refresh_token")
            #expect(try await app.api(token: newer.accessToken).getMe().unauthorized.body.applicationProblemJson.code == "unauthorized")
            let garbage = try await app.api.refreshTokens(body: .json(.init(refreshToken: "rt_garbage")))
            #expect(try garbage.unauthorized.body.applicationProblemJson.code == "invalid_refresh_token")
        }
    }

    @Test("Logging out revokes the session's access and refresh tokens", arguments: TestBackend.all)
    func logoutRevokesTheSession(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("fay")
            let other = try await app.api.login(body: .json(.init(login: "fay", password: "correct horse battery"))).ok.body.json
            _ = try await app.api(token: session.accessToken).logout().noContent
            #expect(try await app.api(token: session.accessToken).getMe().unauthorized.headers.wwwAuthenticate.hasPrefix("Bearer"))
            let refresh = try await app.api.refreshTokens(body: .json(.init(refreshToken: session.refreshToken)))
            #expect(try refresh.unauthorized.body.applicationProblemJson.code == "invalid_refresh_token")
            // The other session is untouched.
            #expect(try await app.api(token: other.accessToken).getMe().ok.body.json.username == "fay")
        }
    }

    @Test("A session can be revoked by id; someone else's or a junk id is 404", arguments: TestBackend.all)
    func revokingSessionsById(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let gus = try await app.register("gus")
            let phone = try await app.api.login(body: .json(.init(login: "gus", password: "correct horse battery"))).ok.body.json
            let hal = try await app.register("hal")

            let foreign = try await app.api(token: hal.accessToken).revokeSession(path: .init(sessionId: gus.sessionId))
            #expect(try foreign.notFound.body.applicationProblemJson.code == "not_found")
            let junk = try await app.api(token: gus.accessToken).revokeSession(path: .init(sessionId: "not-a-uuid"))
            #expect(try junk.notFound.body.applicationProblemJson.code == "not_found")

            _ = try await app.api(token: gus.accessToken).revokeSession(path: .init(sessionId: phone.sessionId)).noContent
            #expect(try await app.api(token: phone.accessToken).getMe().unauthorized.body.applicationProblemJson.code == "unauthorized")
            let twice = try await app.api(token: gus.accessToken).revokeSession(path: .init(sessionId: phone.sessionId))
            #expect(try twice.notFound.body.applicationProblemJson.code == "not_found")
            let remaining = try await app.api(token: gus.accessToken).listSessions().ok.body.json.items
            #expect(remaining.map(\.id) == [gus.sessionId])
        }
    }

    @Test("Changing the password keeps this session and revokes the others", arguments: TestBackend.all)
    func changingThePassword(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let main = try await app.register("ida", password: "old password")
            let other = try await app.api.login(body: .json(.init(login: "ida", password: "old password"))).ok.body.json

            let wrong = try await app.api(token: main.accessToken).changePassword(
                body: .json(.init(currentPassword: "not it at all", newPassword: "new password"))
            )
            #expect(try wrong.forbidden.body.applicationProblemJson.code == "invalid_credentials")
            let weak = try await app.api(token: main.accessToken).changePassword(
                body: .json(.init(currentPassword: "old password", newPassword: "short"))
            )
            #expect(try weak.badRequest.body.applicationProblemJson.errors?.map(\.field) == ["newPassword"])

            _ = try await app.api(token: main.accessToken).changePassword(
                body: .json(.init(currentPassword: "old password", newPassword: "new password"))
            ).noContent
            #expect(try await app.api(token: main.accessToken).getMe().ok.body.json.username == "ida")
            #expect(try await app.api(token: other.accessToken).getMe().unauthorized.body.applicationProblemJson.code == "unauthorized")
            let old = try await app.api.login(body: .json(.init(login: "ida", password: "old password")))
            #expect(try old.unauthorized.body.applicationProblemJson.code == "invalid_credentials")
            _ = try await app.api.login(body: .json(.init(login: "ida", password: "new password"))).ok
        }
    }

    @Test("PATCH /me changes only what it is given", arguments: TestBackend.all)
    func updatingTheProfile(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            let session = try await app.register("jojo", displayName: "Jo")
            let api = app.api(token: session.accessToken)
            let described = try await api.updateMe(body: .json(.init(bio: "  Line one\nline two  "))).ok.body.json
            #expect(described.bio == "Line one\nline two")
            #expect(described.displayName == "Jo")
            let renamed = try await api.updateMe(body: .json(.init(displayName: "Jo J."))).ok.body.json
            #expect(renamed.displayName == "Jo J.")
            #expect(renamed.bio == "Line one\nline two")
            let cleared = try await api.updateMe(body: .json(.init(bio: ""))).ok.body.json
            #expect(cleared.bio == nil)
            let invalid = try await api.updateMe(body: .json(.init(displayName: "", bio: String(repeating: "b", count: 501))))
            let fields = try invalid.badRequest.body.applicationProblemJson.errors?.map(\.field)
            #expect(fields == ["displayName", "bio"])
            #expect(try await api.getMe().ok.body.json.displayName == "Jo J.")
        }
    }

    @Test("Without a token, every non-public operation is 401 with WWW-Authenticate", arguments: TestBackend.all)
    func operationsRequireAToken(backend: TestBackend) async throws {
        try await withApp(backend) { app in
            #expect(try await app.api.getMe().unauthorized.headers.wwwAuthenticate == #"Bearer realm="parley""#)
            _ = try await app.api.updateMe(body: .json(.init(bio: "x"))).unauthorized
            _ = try await app.api.listSessions().unauthorized
            _ = try await app.api.logout().unauthorized
            _ = try await app.api.revokeSession(path: .init(sessionId: UUID().uuidString)).unauthorized
            _ = try await app.api.changePassword(body: .json(.init(currentPassword: "a", newPassword: "bbbbbbbbbb"))).unauthorized
            _ = try await app.api(headers: [.authorization: "Basic YTpi"]).getMe().unauthorized
            _ = try await app.api(headers: [.authorization: "Bearer"]).getMe().unauthorized
        }
    }
}
