import Foundation
package import Logging
import SQLKit

/// One forward-only schema change, recorded in `schema_migrations` once applied.
///
/// Statements are written once for both dialects, with `{uuid}`, `{time}` and `{bigint}` standing
/// for the column types that differ; a statement that differs beyond that is marked `.sqlite(…)` or
/// `.postgres(…)` and runs, in its place, on that dialect only.
struct Migration: Sendable {
    var version: Int
    var name: String
    var statements: [Statement]

    /// One statement, for both dialects (a plain string literal) or for one.
    enum Statement: Sendable, ExpressibleByStringLiteral {
        case both(String)
        case sqlite(String)
        case postgres(String)

        init(stringLiteral value: String) { self = .both(value) }
    }

    func sql(for kind: DatabaseKind) -> [String] {
        let types: [String: String] =
            switch kind {
            case .sqlite: ["{uuid}": "TEXT", "{time}": "REAL", "{bigint}": "INTEGER", "{bytes}": "BLOB"]
            case .postgres: ["{uuid}": "uuid", "{time}": "timestamptz", "{bigint}": "bigint", "{bytes}": "bytea"]
            }
        return statements.compactMap { statement -> String? in
            switch (statement, kind) {
            case (.both(let sql), _), (.sqlite(let sql), .sqlite), (.postgres(let sql), .postgres): sql
            default: nil
            }
        }.map { statement in
            types.reduce(statement) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
        }
    }
}

/// Brings a database's schema up to date, safely when several processes start at once.
package enum Migrator {
    /// Every migration, oldest first. Append only: a released migration is never edited.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            name: "accounts, sessions and the event log",
            statements: [
                """
                CREATE TABLE users (
                    id {uuid} PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL UNIQUE,
                    display_name TEXT NOT NULL,
                    bio TEXT NOT NULL DEFAULT '',
                    avatar_url TEXT,
                    password_hash TEXT NOT NULL,
                    created_at {time} NOT NULL,
                    updated_at {time} NOT NULL
                )
                """,
                """
                CREATE TABLE sessions (
                    id {uuid} PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    device_name TEXT,
                    user_agent TEXT,
                    created_at {time} NOT NULL,
                    last_used_at {time} NOT NULL,
                    revoked_at {time}
                )
                """,
                "CREATE INDEX sessions_user_id ON sessions (user_id)",
                """
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY,
                    session_id {uuid} NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                    created_at {time} NOT NULL,
                    expires_at {time} NOT NULL,
                    used_at {time}
                )
                """,
                "CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id)",
                "CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at)",
                """
                CREATE TABLE password_reset_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    created_at {time} NOT NULL,
                    expires_at {time} NOT NULL,
                    used_at {time}
                )
                """,
                "CREATE INDEX password_reset_tokens_user_id ON password_reset_tokens (user_id)",
                """
                CREATE TABLE signing_keys (
                    kid TEXT PRIMARY KEY,
                    algorithm TEXT NOT NULL,
                    private_key TEXT NOT NULL,
                    created_at {time} NOT NULL
                )
                """,
                """
                CREATE TABLE event_streams (
                    stream TEXT PRIMARY KEY,
                    last_seq {bigint} NOT NULL
                )
                """,
                """
                CREATE TABLE events (
                    stream TEXT NOT NULL,
                    seq {bigint} NOT NULL,
                    type TEXT NOT NULL,
                    data TEXT NOT NULL,
                    ts {time} NOT NULL,
                    PRIMARY KEY (stream, seq)
                )
                """,
                "CREATE INDEX events_ts ON events (ts)",
            ]
        ),
        Migration(
            version: 2,
            name: "people, conversations, messages, reactions and message search",
            statements: [
                "ALTER TABLE users ADD COLUMN display_name_key TEXT NOT NULL DEFAULT ''",
                "UPDATE users SET display_name_key = lower(display_name)",
                """
                CREATE TABLE contacts (
                    owner_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    contact_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    nickname TEXT,
                    created_at {time} NOT NULL,
                    PRIMARY KEY (owner_id, contact_id)
                )
                """,
                """
                CREATE TABLE blocks (
                    blocker_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    blocked_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    created_at {time} NOT NULL,
                    PRIMARY KEY (blocker_id, blocked_id)
                )
                """,
                """
                CREATE TABLE conversations (
                    id {uuid} PRIMARY KEY,
                    stream TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    title TEXT NOT NULL DEFAULT '',
                    description TEXT NOT NULL DEFAULT '',
                    icon_url TEXT,
                    direct_key TEXT UNIQUE,
                    created_by {uuid} NOT NULL,
                    created_at {time} NOT NULL,
                    activity_at {bigint} NOT NULL,
                    last_message_seq {bigint} NOT NULL DEFAULT 0,
                    member_count INTEGER NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE members (
                    conversation_id {uuid} NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    joined_at {time} NOT NULL,
                    last_read_seq {bigint} NOT NULL DEFAULT 0,
                    PRIMARY KEY (conversation_id, user_id)
                )
                """,
                "CREATE INDEX members_user_id ON members (user_id)",
                // Messages: SQLite's FTS5 needs a stable integer rowid, so there the uuid is a second key.
                .sqlite(
                    """
                    CREATE TABLE messages (
                        row_id INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        sender_id TEXT NOT NULL,
                        client_message_id TEXT NOT NULL,
                        body TEXT,
                        reply_to_id TEXT,
                        created_at REAL NOT NULL,
                        edited_at REAL,
                        deleted_at REAL
                    )
                    """
                ),
                .postgres(
                    """
                    CREATE TABLE messages (
                        id uuid PRIMARY KEY,
                        conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                        seq bigint NOT NULL,
                        sender_id uuid NOT NULL,
                        client_message_id TEXT NOT NULL,
                        body TEXT,
                        reply_to_id uuid,
                        created_at timestamptz NOT NULL,
                        edited_at timestamptz,
                        deleted_at timestamptz,
                        search tsvector GENERATED ALWAYS AS (to_tsvector('english', coalesce(body, ''))) STORED
                    )
                    """
                ),
                "CREATE UNIQUE INDEX messages_conversation_seq ON messages (conversation_id, seq)",
                "CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, sender_id, client_message_id)",
                """
                CREATE TABLE reactions (
                    message_id {uuid} NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    emoji TEXT NOT NULL,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    created_at {time} NOT NULL,
                    PRIMARY KEY (message_id, emoji, user_id)
                )
                """,
                // Full-text search, kept in step with edits and deletes: a generated, GIN-indexed tsvector
                // on PostgreSQL; an external-content FTS5 table maintained by triggers on SQLite.
                .postgres("CREATE INDEX messages_search ON messages USING GIN (search)"),
                .sqlite(
                    """
                    CREATE VIRTUAL TABLE messages_fts USING fts5(
                        body, content='messages', content_rowid='row_id', tokenize='porter unicode61 remove_diacritics 2'
                    )
                    """
                ),
                .sqlite(
                    """
                    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                        INSERT INTO messages_fts (rowid, body) VALUES (new.row_id, coalesce(new.body, ''));
                    END
                    """
                ),
                .sqlite(
                    """
                    CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
                        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.row_id, coalesce(old.body, ''));
                        INSERT INTO messages_fts (rowid, body) VALUES (new.row_id, coalesce(new.body, ''));
                    END
                    """
                ),
                .sqlite(
                    """
                    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
                        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.row_id, coalesce(old.body, ''));
                    END
                    """
                ),
            ]
        ),
        Migration(
            version: 3,
            name: "presence",
            statements: [
                "ALTER TABLE users ADD COLUMN last_seen_at {time}",
                """
                CREATE TABLE presence (
                    connection_id {uuid} PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    node_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    expires_at {time} NOT NULL
                )
                """,
                "CREATE INDEX presence_user_id ON presence (user_id)",
                "CREATE INDEX presence_node_id ON presence (node_id)",
                "CREATE INDEX presence_expires_at ON presence (expires_at)",
            ]
        ),
        Migration(
            version: 4,
            name: "privacy settings, and the events of a message found by its id",
            statements: [
                "ALTER TABLE users ADD COLUMN group_adds TEXT NOT NULL DEFAULT 'everyone'",
                "ALTER TABLE users ADD COLUMN last_seen_visible INTEGER NOT NULL DEFAULT 1",
                // Deleting or editing a message rewrites the events that carry its text.
                "ALTER TABLE events ADD COLUMN message_id {uuid}",
                .sqlite(
                    """
                    UPDATE events SET message_id = upper(json_extract(data, '$.id'))
                    WHERE type IN ('message.created', 'message.updated', 'message.deleted')
                    """
                ),
                .postgres(
                    """
                    UPDATE events SET message_id = (data::json->>'id')::uuid
                    WHERE type IN ('message.created', 'message.updated', 'message.deleted')
                    """
                ),
                "CREATE INDEX events_message_id ON events (message_id) WHERE message_id IS NOT NULL",
            ]
        ),
        Migration(
            version: 5,
            name: "uploaded images: blobs, uploads, avatars, group icons, attachments",
            statements: [
                """
                CREATE TABLE secrets (
                    name TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    created_at {time} NOT NULL
                )
                """,
                """
                CREATE TABLE blobs (
                    hash TEXT PRIMARY KEY,
                    size {bigint} NOT NULL,
                    created_at {time} NOT NULL
                )
                """,
                """
                CREATE TABLE blob_chunks (
                    hash TEXT NOT NULL REFERENCES blobs (hash) ON DELETE CASCADE,
                    part INTEGER NOT NULL,
                    data {bytes} NOT NULL,
                    PRIMARY KEY (hash, part)
                )
                """,
                """
                CREATE TABLE uploads (
                    id {uuid} PRIMARY KEY,
                    owner_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    content_type TEXT NOT NULL,
                    size {bigint} NOT NULL,
                    width INTEGER NOT NULL,
                    height INTEGER NOT NULL,
                    animated INTEGER NOT NULL DEFAULT 0,
                    original_hash TEXT NOT NULL REFERENCES blobs (hash),
                    thumbnail_hash TEXT NOT NULL REFERENCES blobs (hash),
                    avatar_hash TEXT NOT NULL REFERENCES blobs (hash),
                    avatar_small_hash TEXT NOT NULL REFERENCES blobs (hash),
                    message_id {uuid} REFERENCES messages (id) ON DELETE CASCADE,
                    position INTEGER,
                    created_at {time} NOT NULL
                )
                """,
                "CREATE INDEX uploads_message_id ON uploads (message_id) WHERE message_id IS NOT NULL",
                "CREATE INDEX uploads_owner_created ON uploads (owner_id, created_at)",
                "ALTER TABLE users ADD COLUMN avatar_upload_id {uuid} REFERENCES uploads (id) ON DELETE SET NULL",
                "ALTER TABLE conversations ADD COLUMN icon_upload_id {uuid} REFERENCES uploads (id) ON DELETE SET NULL",
                // Never written: profile pictures and icons are uploads now.
                "ALTER TABLE users DROP COLUMN avatar_url",
                "ALTER TABLE conversations DROP COLUMN icon_url",
            ]
        ),
        Migration(
            version: 6,
            name: "mentions and the notification inbox",
            statements: [
                "ALTER TABLE messages ADD COLUMN mentions_all INTEGER NOT NULL DEFAULT 0",
                """
                CREATE TABLE message_mentions (
                    message_id {uuid} NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (message_id, user_id)
                )
                """,
                """
                CREATE TABLE notifications (
                    id {uuid} PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    conversation_id {uuid} NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    message_id {uuid} REFERENCES messages (id) ON DELETE CASCADE,
                    actor_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    excerpt TEXT,
                    created_at {time} NOT NULL,
                    created_us {bigint} NOT NULL,
                    read_at {time}
                )
                """,
                // One notification per user and message, whatever the reasons: an edit that adds a
                // mention notifies once, and never twice.
                "CREATE UNIQUE INDEX notifications_once ON notifications (user_id, message_id) WHERE message_id IS NOT NULL",
                "CREATE INDEX notifications_inbox ON notifications (user_id, created_us, id)",
                "CREATE INDEX notifications_unread ON notifications (user_id, conversation_id) WHERE read_at IS NULL",
                "CREATE INDEX notifications_message ON notifications (message_id) WHERE message_id IS NOT NULL",
            ]
        ),
        Migration(
            version: 7,
            name: "preferences that follow the user, per-conversation levels and mutes, chat themes",
            statements: [
                // Appearance, accessibility and notification defaults, as JSON: read and written whole.
                "ALTER TABLE users ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
                "ALTER TABLE members ADD COLUMN notify_level TEXT",
                "ALTER TABLE members ADD COLUMN muted_until {time}",
                "ALTER TABLE members ADD COLUMN theme TEXT",
                "ALTER TABLE conversations ADD COLUMN theme TEXT",
            ]
        ),
        Migration(
            version: 8,
            name: "Web Push: subscriptions and the durable queue of pushes",
            statements: [
                """
                CREATE TABLE push_subscriptions (
                    id {uuid} PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    endpoint TEXT NOT NULL UNIQUE,
                    p256dh TEXT NOT NULL,
                    auth TEXT NOT NULL,
                    created_at {time} NOT NULL
                )
                """,
                "CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id)",
                """
                CREATE TABLE push_outbox (
                    id {uuid} PRIMARY KEY,
                    subscription_id {uuid} NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
                    payload TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at {time} NOT NULL,
                    created_at {time} NOT NULL
                )
                """,
                "CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at)",
            ]
        ),
        Migration(
            version: 9,
            name: "e-mail verification and change, username changes",
            statements: [
                "ALTER TABLE users ADD COLUMN email_verified_at {time}",
                "ALTER TABLE users ADD COLUMN username_changed_at {time}",
                """
                CREATE TABLE email_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    email TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    created_at {time} NOT NULL,
                    expires_at {time} NOT NULL,
                    used_at {time}
                )
                """,
                "CREATE INDEX email_tokens_user_id ON email_tokens (user_id)",
                "CREATE INDEX contacts_contact_id ON contacts (contact_id)",
            ]
        ),
        Migration(
            version: 10,
            name: "account deletion: the tombstone, the reserved name, the resumable job",
            statements: [
                "ALTER TABLE users ADD COLUMN deleted_at {time}",
                // A deleted account's username, kept from others until the grace period ends.
                "ALTER TABLE users ADD COLUMN former_username TEXT",
                "CREATE UNIQUE INDEX users_former_username ON users (former_username)",
                """
                CREATE TABLE account_deletions (
                    user_id {uuid} PRIMARY KEY REFERENCES users (id),
                    delete_messages INTEGER NOT NULL,
                    created_at {time} NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at {time} NOT NULL
                )
                """,
            ]
        ),
        Migration(
            version: 11,
            name: "data exports, built in the background and kept in chunks every node can serve",
            statements: [
                """
                CREATE TABLE exports (
                    id {uuid} PRIMARY KEY,
                    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    created_at {time} NOT NULL,
                    ready_at {time},
                    size {bigint},
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at {time} NOT NULL
                )
                """,
                "CREATE INDEX exports_user_id ON exports (user_id, created_at)",
                """
                CREATE TABLE export_chunks (
                    export_id {uuid} NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
                    part INTEGER NOT NULL,
                    data {bytes} NOT NULL,
                    PRIMARY KEY (export_id, part)
                )
                """,
            ]
        ),
    ]

    /// The newest schema version this build knows.
    package static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration the database lacks, in one transaction, and returns their versions.
    ///
    /// Processes that start together take turns on a lock: the first applies, the others find nothing to do.
    /// A database migrated by a newer build is refused rather than guessed at.
    @discardableResult
    package static func migrate(_ database: any Database, logger: Logger) async throws -> [Int] {
        let kind = database.kind
        let applied = try await database.write { sql in
            try await sql.lock("schema_migrations", kind: kind)
            let time = kind == .sqlite ? "REAL" : "timestamptz"
            try await sql.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at \(unsafeRaw: time) NOT NULL
                )
                """
            ).run()
            let existing = Set(
                try await sql.raw("SELECT version FROM schema_migrations").all()
                    .map { try $0.decode(column: "version", as: Int.self) }
            )
            if let newest = existing.max(), newest > latestVersion {
                throw SchemaTooNewError(databaseVersion: newest, knownVersion: latestVersion)
            }
            var applied: [Int] = []
            for migration in migrations where !existing.contains(migration.version) {
                for statement in migration.sql(for: kind) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                try await sql.raw(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Date()))
                    """
                ).run()
                applied.append(migration.version)
            }
            return applied
        }
        for version in applied {
            logger.info("Applied migration", metadata: ["version": "\(version)"])
        }
        return applied
    }

    /// The versions recorded in the database, oldest first.
    package static func appliedVersions(_ database: any Database) async throws -> [Int] {
        try await database.read { sql in
            try await sql.raw("SELECT version FROM schema_migrations ORDER BY version").all()
                .map { try $0.decode(column: "version", as: Int.self) }
        }
    }
}

/// The database was migrated by a newer build of Parley than this one.
package struct SchemaTooNewError: Error, CustomStringConvertible {
    package var databaseVersion: Int
    package var knownVersion: Int
    package var description: String {
        "The database schema is at version \(databaseVersion), newer than this build knows (\(knownVersion)). Run a newer Parley."
    }
}
