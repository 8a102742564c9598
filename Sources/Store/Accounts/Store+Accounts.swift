package import Foundation
package import Models
import SQLKit

/// A new account's fields, already validated and normalized.
package struct NewAccount: Sendable {
    package var username: String
    package var email: String
    package var displayName: String
    package var passwordHash: String

    package init(username: String, email: String, displayName: String, passwordHash: String) {
        self.username = username
        self.email = email
        self.displayName = displayName
        self.passwordHash = passwordHash
    }
}

/// What a login is checked against.
package struct Credentials: Sendable {
    package var userID: UUID
    package var passwordHash: String
}

extension Store {
    /// Creates an account and its first session in one transaction.
    ///
    /// Throws `username_taken` or `email_taken` (compared without regard to case), also when a
    /// concurrent registration wins the race.
    package func register(_ account: NewAccount, session: NewSession, now: Date) async throws -> (User, Session) {
        let user = User(
            id: UUID(),
            username: account.username,
            displayName: account.displayName,
            email: account.email,
            createdAt: now
        )
        do {
            return try await write { transaction in
                try await transaction.sql.checkAvailable(username: account.username, email: account.email)
                try await transaction.sql.raw(
                    """
                    INSERT INTO users (id, username, email, email_key, display_name, display_name_key, password_hash, created_at, updated_at)
                    VALUES (\(bind: user.id), \(bind: user.username), \(bind: user.email), \(bind: Self.emailKey(user.email)),
                            \(bind: user.displayName), \(bind: user.displayName.lowercased()), \(bind: account.passwordHash), \(bind: now), \(bind: now))
                    """
                ).run()
                let created = try await transaction.insertSession(session, userID: user.id, now: now)
                return (user, created)
            }
        } catch where database.isUniqueViolation(error) {
            // Lost a race with a concurrent registration: say which field collided.
            try await checkAvailable(username: account.username, email: account.email)
            throw error
        }
    }

    /// Throws `username_taken` or `email_taken` when either is in use (compared without regard to case).
    package func checkAvailable(username: String, email: String) async throws {
        try await read { try await $0.checkAvailable(username: username, email: email) }
    }

    /// The password hash of the account whose username or email is `login` (any case).
    package func credentials(forLogin login: String) async throws -> Credentials? {
        let row = try await database.read { sql in
            if login.contains("@") {
                try await sql.raw("SELECT id, password_hash FROM users WHERE email_key = \(bind: Self.emailKey(login))").first()
            } else {
                try await sql.raw("SELECT id, password_hash FROM users WHERE username = \(bind: login.lowercased())").first()
            }
        }
        guard let row else { return nil }
        return Credentials(
            userID: try row.decode(column: "id", as: UUID.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self)
        )
    }

    /// The password hash of an account.
    package func passwordHash(of userID: UUID) async throws -> String? {
        try await database.read { sql in
            try await sql.raw("SELECT password_hash FROM users WHERE id = \(bind: userID)").first()?
                .decode(column: "password_hash", as: String.self)
        }
    }

    /// One account, as its owner sees it.
    package func user(id: UUID) async throws -> User? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: UserRow.columns) FROM users WHERE id = \(bind: id)").first()
                .map { try $0.model(UserRow.self).user(media) }
        }
    }

    /// Changes the display name and/or bio; `nil` leaves a field as it is. Appends `user.updated`.
    package func updateProfile(userID: UUID, displayName: String?, bio: String?, now: Date) async throws -> User? {
        try await write { transaction in
            let row = try await transaction.sql.raw(
                """
                UPDATE users SET display_name = COALESCE(\(bind: displayName), display_name),
                                 display_name_key = COALESCE(\(bind: displayName?.lowercased()), display_name_key),
                                 bio = COALESCE(\(bind: bio), bio),
                                 updated_at = \(bind: now)
                WHERE id = \(bind: userID)
                RETURNING \(unsafeRaw: UserRow.columns)
                """
            ).first()
            guard let user = try row?.model(UserRow.self).user(transaction.media) else { return nil }
            try await transaction.append(to: .user(user.id), .userUpdated(user), at: now)
            return user
        }
    }

    /// The form of an email address that uniqueness and lookups compare.
    static func emailKey(_ email: String) -> String { email.lowercased() }
}

extension SQLDatabase {
    fileprivate func checkAvailable(username: String, email: String) async throws {
        if try await raw("SELECT 1 AS taken FROM users WHERE username = \(bind: username)").first() != nil {
            throw Problem.usernameTaken
        }
        if try await raw("SELECT 1 AS taken FROM users WHERE email_key = \(bind: Store.emailKey(email))").first() != nil {
            throw Problem.emailTaken
        }
    }
}

/// A `users` row.
struct UserRow: Decodable {
    static let columns = "id, username, email, display_name, bio, avatar_upload_id, created_at"

    var id: UUID
    var username: String
    var email: String
    var displayName: String
    var bio: String
    var avatarUploadId: UUID?
    var createdAt: Date

    /// The user, with their avatar's link signed by `links`.
    func user(_ links: MediaLinks) -> User {
        User(
            id: id,
            username: username,
            displayName: displayName,
            email: email,
            bio: bio.isEmpty ? nil : bio,
            avatarURL: avatarUploadId.flatMap { links.url($0, .avatar, for: .anyone) },
            createdAt: createdAt
        )
    }
}
