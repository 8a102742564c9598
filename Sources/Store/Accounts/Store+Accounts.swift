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
                try await sql.raw("SELECT id, password_hash FROM users WHERE email_key = \(bind: Self.emailKey(login)) AND deleted_at IS NULL").first()
            } else {
                try await sql.raw("SELECT id, password_hash FROM users WHERE username = \(bind: login.lowercased()) AND deleted_at IS NULL").first()
            }
        }
        guard let row else { return nil }
        return Credentials(
            userID: try row.decodeUUID(column: "id"),
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
                .map { try UserRow(row: $0).user(media) }
        }
    }

    /// Changes the display name, bio and/or username; `nil` leaves a field as it is. Announces the
    /// change (`Transaction.profileChanged`). A username that differs from the current one (the
    /// current one in another case does not) must be free, and the last change at least
    /// `accounts.usernameChangeInterval` ago: `username_taken`, or `rate_limited` saying how long
    /// to wait.
    package func updateProfile(userID: UUID, displayName: String?, bio: String?, username: String? = nil, now: Date) async throws -> User? {
        do {
            return try await write { [accounts] transaction in
                let audience = try await transaction.lockProfileAudience(of: userID)
                guard
                    let current = try await transaction.sql.raw(
                        "SELECT username, username_changed_at FROM users WHERE id = \(bind: userID)"
                    ).first()
                else { return nil }
                let renamed = try username == current.decode(column: "username", as: String.self) ? nil : username
                if let renamed {
                    if let last = try current.decode(column: "username_changed_at", as: Date?.self) {
                        let wait = last.addingTimeInterval(accounts.usernameChangeInterval).timeIntervalSince(now)
                        // (A millisecond of slack: SQLite keeps times as floating-point seconds.)
                        if wait > 0.001 { throw Problem.rateLimited(retryAfter: max(1, Int(wait.rounded()))) }
                    }
                    try await transaction.sql.refuseIfTaken(username: renamed)
                }
                let renamedAt: SQLQueryString = renamed == nil ? "username_changed_at" : "\(bind: now)"
                let row = try await transaction.sql.raw(
                    """
                    UPDATE users SET display_name = COALESCE(\(bind: displayName), display_name),
                                     display_name_key = COALESCE(\(bind: displayName?.lowercased()), display_name_key),
                                     bio = COALESCE(\(bind: bio), bio),
                                     username = COALESCE(\(bind: renamed), username),
                                     username_changed_at = \(renamedAt),
                                     updated_at = \(bind: now)
                    WHERE id = \(bind: userID)
                    RETURNING \(unsafeRaw: UserRow.columns)
                    """
                ).first()
                guard let user = try row.map(UserRow.init(row:))?.user(transaction.media) else { return nil }
                try await transaction.profileChanged(user, to: audience, at: now)
                return user
            }
        } catch where database.isUniqueViolation(error) {
            throw Problem.usernameTaken  // lost a race with a registration or rename to the same name
        }
    }

    /// The form of an email address that uniqueness and lookups compare.
    static func emailKey(_ email: String) -> String { email.lowercased() }
}

/// Who sees a user's profile besides themselves: the conversations they are in, and whoever has
/// them as a contact.
struct ProfileAudience {
    var conversations: [UUID]
    var contacts: [(owner: UUID, nickname: String?, addedAt: Date)]
}

extension Transaction {
    /// Locks, in order, every stream a change of the user's profile appends to, and says whose they
    /// are. Call it before updating the user's row: a message that notifies the user locks its
    /// streams first and then (through a foreign key) that row, so the other order could deadlock.
    func lockProfileAudience(of userID: UUID) async throws -> ProfileAudience {
        let conversations = try await sql.raw("SELECT conversation_id FROM members WHERE user_id = \(bind: userID)").all()
            .map { try $0.decodeUUID(column: "conversation_id") }
        let contacts = try await sql.raw("SELECT owner_id, nickname, created_at FROM contacts WHERE contact_id = \(bind: userID)").all()
            .map { row in
                (
                    owner: try row.decodeUUID(column: "owner_id"),
                    nickname: try row.decode(column: "nickname", as: String?.self),
                    addedAt: try row.decode(column: "created_at", as: Date.self)
                )
            }
        try await lockStreams([.user(userID)] + conversations.map(StreamID.conversation) + contacts.map { .user($0.owner) })
        return ProfileAudience(conversations: conversations, contacts: contacts)
    }

    /// Tells whoever sees the user that their profile changed: `user.updated` to the user's own
    /// stream, `profile.updated` to every conversation they are in, `contact.updated` to everyone
    /// who has them as a contact. `deleted`: the account is being deleted.
    func profileChanged(_ user: User, to audience: ProfileAudience, deleted: Bool = false, at now: Date) async throws {
        let profile = PublicUser(
            id: user.id, username: user.username, displayName: user.displayName, bio: user.bio, avatarURL: user.avatarURL,
            createdAt: user.createdAt, deleted: deleted
        )
        try await append(to: .user(user.id), .userUpdated(user), at: now)
        for conversationID in audience.conversations {
            try await append(to: .conversation(conversationID), .profileUpdated(ProfileUpdatedData(conversationID: conversationID, user: profile)), at: now)
        }
        for contact in audience.contacts {
            try await append(to: .user(contact.owner), .contactUpdated(Contact(user: profile, nickname: contact.nickname, addedAt: contact.addedAt)), at: now)
        }
    }
}

extension SQLDatabase {
    fileprivate func checkAvailable(username: String, email: String) async throws {
        try await refuseIfTaken(username: username)
        if try await raw("SELECT 1 AS taken FROM users WHERE email_key = \(bind: Store.emailKey(email))").first() != nil {
            throw Problem.emailTaken
        }
    }

    fileprivate func refuseIfTaken(username: String) async throws {
        // A deleted account's name stays reserved until its grace period ends.
        if try await raw("SELECT 1 AS taken FROM users WHERE username = \(bind: username) OR former_username = \(bind: username)").first() != nil {
            throw Problem.usernameTaken
        }
    }
}

/// A `users` row.
struct UserRow {
    static let columns = "id, username, email, email_verified_at, display_name, bio, avatar_upload_id, created_at"

    var id: UUID
    var username: String
    var email: String
    var emailVerifiedAt: Date?
    var displayName: String
    var bio: String
    var avatarUploadID: UUID?
    var createdAt: Date

    /// A row selected with `columns`.
    init(row: any SQLRow) throws {
        id = try row.decodeUUID(column: "id")
        username = try row.decode(column: "username", as: String.self)
        email = try row.decode(column: "email", as: String.self)
        emailVerifiedAt = try row.decode(column: "email_verified_at", as: Date?.self)
        displayName = try row.decode(column: "display_name", as: String.self)
        bio = try row.decode(column: "bio", as: String.self)
        avatarUploadID = try row.decodeOptionalUUID(column: "avatar_upload_id")
        createdAt = try row.decode(column: "created_at", as: Date.self)
    }

    /// The user, with their avatar's link signed by `links`.
    func user(_ links: MediaLinks) -> User {
        User(
            id: id,
            username: username,
            displayName: displayName,
            email: email,
            emailVerified: emailVerifiedAt != nil,
            bio: bio.isEmpty ? nil : bio,
            avatarURL: avatarUploadID.flatMap { links.url($0, .avatar, for: .anyone) },
            createdAt: createdAt
        )
    }
}
