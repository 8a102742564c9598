package import Foundation
package import Models
import SQLKit
import Synchronization

/// A user's data export, as `GET /me/export` describes it.
package struct DataExport: Sendable, Equatable {
    package var id: UUID
    package var userID: UUID
    package var createdAt: Date
    /// When it was built; nil while it is being built.
    package var readyAt: Date?
    /// Bytes of the archive, once built.
    package var size: Int64?
}

/// Data exports: one JSON object per line (`{"type": …, "data": …}`) — the profile, sessions,
/// contacts, blocks, memberships, every message the user sent, and their uploads with their bytes —
/// built off the request path and stored in chunks as it is written, so that neither building nor
/// serving it holds more than a chunk (and one image) in memory, and every node serves it.
extension Store {
    /// Bytes of one stored chunk of an archive.
    static let exportChunkSize = 256 * 1024
    /// Messages read from the database at a time.
    static let exportPage = 1000
    /// How often a user may ask for an export.
    package static let exportInterval: TimeInterval = 24 * 3600
    /// How long an archive is kept (and its link works) once built.
    package static let exportLifetime: TimeInterval = 48 * 3600

    /// Queues an export of the user's data; `rate_limited` when they asked less than a day ago.
    package func requestExport(userID: UUID, now: Date) async throws -> DataExport {
        try await write { transaction in
            let last = try await transaction.sql.raw(
                "SELECT MAX(created_at) AS last FROM exports WHERE user_id = \(bind: userID)"
            ).first()?.decode(column: "last", as: Date?.self)
            if let last, now.timeIntervalSince(last) < Self.exportInterval {
                throw Problem.rateLimited(retryAfter: max(1, Int((Self.exportInterval - now.timeIntervalSince(last)).rounded(.up))))
            }
            let export = DataExport(id: UUID(), userID: userID, createdAt: now)
            try await transaction.sql.raw(
                """
                INSERT INTO exports (id, user_id, created_at, next_attempt_at)
                VALUES (\(bind: export.id), \(bind: userID), \(bind: now), \(bind: now))
                """
            ).run()
            return export
        }
    }

    /// The user's latest export, if any.
    package func latestExport(of userID: UUID) async throws -> DataExport? {
        try await read { sql in
            try await sql.raw(
                "SELECT id, user_id, created_at, ready_at, size FROM exports WHERE user_id = \(bind: userID) ORDER BY created_at DESC LIMIT 1"
            ).first().map(DataExport.init(row:))
        }
    }

    /// A built export, by id.
    package func readyExport(_ id: UUID) async throws -> DataExport? {
        try await read { sql in
            try await sql.raw("SELECT id, user_id, created_at, ready_at, size FROM exports WHERE id = \(bind: id) AND ready_at IS NOT NULL")
                .first().map(DataExport.init(row:))
        }
    }

    /// Claims the export waiting longest, for `leaseEnd - now` (see `claimAccountDeletion`).
    package func claimExport(now: Date, leaseEnd: Date) async throws -> DataExport? {
        try await claim(.exports, limit: 1, now: now, leaseEnd: leaseEnd, returning: "id, user_id, created_at, ready_at, size")
            .first.map(DataExport.init(row:))
    }

    /// Writes the archive of a claimed export, from the start (an attempt cut short left chunks that
    /// go first), and marks it ready. Returns it as built.
    package func buildExport(_ export: DataExport, now: Date) async throws -> DataExport {
        let userID = export.userID
        try await write { try await $0.sql.raw("DELETE FROM export_chunks WHERE export_id = \(bind: export.id)").run() }
        let archive = ExportWriter(store: self, exportID: export.id)
        if let user = try await user(id: userID) { try await archive.line("profile", user) }
        for session in try await activeSessions(of: userID, now: now) {
            try await archive.line(
                "session",
                ExportedSession(
                    id: session.id.lowercased, deviceName: session.deviceName, userAgent: session.userAgent, createdAt: session.createdAt,
                    lastUsedAt: session.lastUsedAt
                )
            )
        }
        for contact in try await contacts(of: userID) { try await archive.line("contact", contact) }
        for block in try await blocks(of: userID) { try await archive.line("block", block) }
        for membership in try await read({ try await $0.exportedMemberships(of: userID) }) { try await archive.line("membership", membership) }
        var after = (conversation: UUID?.none, seq: Int64(0))
        while true {
            let from = after
            let page = try await read { try await $0.exportedMessages(of: userID, after: from, limit: Self.exportPage) }
            for message in page { try await archive.line("message", message) }
            guard let last = page.last, page.count == Self.exportPage else { break }
            after = (last.conversationID, last.seq)
        }
        let uploads = try await read { try await $0.exportedUploads(of: userID) }
        for (upload, hash) in uploads {
            var upload = upload
            upload.data = try await blobs.read(hash)?.base64EncodedString()
            try await archive.line("upload", upload)
        }
        let size = try await archive.finish()
        var built = export
        built.readyAt = now
        built.size = size
        try await write { transaction in
            try await transaction.sql.raw(
                "UPDATE exports SET ready_at = \(bind: now), size = \(bind: size) WHERE id = \(bind: export.id)"
            ).run()
        }
        return built
    }

    /// The archive's bytes, chunk by chunk, each read when the one before has been taken.
    package func exportChunks(_ id: UUID) -> AsyncThrowingStream<ArraySlice<UInt8>, any Error> {
        let database = database
        let next = Mutex(0)
        return AsyncThrowingStream {
            let part = next.withLock { part in
                defer { part += 1 }
                return part
            }
            let chunk = try await database.read { sql in
                try await sql.raw("SELECT data FROM export_chunks WHERE export_id = \(bind: id) AND part = \(bind: part)").first()?
                    .decode(column: "data", as: Data.self)
            }
            return chunk.map { ArraySlice($0) }
        }
    }

    /// Deletes exports whose links have expired, their chunks with them; the rows of the last day stay
    /// (they count against the daily limit). Returns how many.
    package func pruneExports(now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-max(Self.exportLifetime, Self.exportInterval))
        return try await pruneInBatches(table: "exports", key: "id", where: "created_at < \(bind: cutoff)")
    }
}

/// Collects an archive's lines and stores them a chunk at a time as they fill.
private final class ExportWriter {
    let store: Store
    let exportID: UUID
    var buffer = Data()
    var part = 0
    var size: Int64 = 0

    init(store: Store, exportID: UUID) {
        self.store = store
        self.exportID = exportID
    }

    /// One line: `{"data": …, "type": …}`.
    func line(_ type: String, _ data: some Encodable & Sendable) async throws {
        buffer += try WireJSON.encode(ExportLine(type: type, data: data))
        buffer.append(0x0A)
        if buffer.count >= Store.exportChunkSize { try await flush() }
    }

    func finish() async throws -> Int64 {
        try await flush()
        return size
    }

    private func flush() async throws {
        guard !buffer.isEmpty else { return }
        let (chunk, part, exportID) = (buffer, part, exportID)
        try await store.write { transaction in
            try await transaction.sql.raw(
                "INSERT INTO export_chunks (export_id, part, data) VALUES (\(bind: exportID), \(bind: part), \(bind: chunk))"
            ).run()
        }
        size += Int64(chunk.count)
        self.part += 1
        buffer = Data()
    }
}

private struct ExportLine<Payload: Encodable>: Encodable {
    var type: String
    var data: Payload
}

/// A signed-in device of the user.
private struct ExportedSession: Encodable, Sendable {
    var id: String
    var deviceName: String?
    var userAgent: String?
    var createdAt: Date
    var lastUsedAt: Date
}

/// A conversation the user is in.
private struct ExportedMembership: Encodable, Sendable {
    var conversationId: String
    var kind: String
    /// A group's title; absent for a direct conversation, whose other member `peerId` names.
    var title: String?
    var peerId: String?
    var role: String
    var joinedAt: Date
}

/// A message the user sent; `body` is absent once deleted.
private struct ExportedMessage: Encodable, Sendable {
    var id: UUID
    var conversationID: UUID
    var seq: Int64
    var body: String?
    var replyToID: UUID?
    var createdAt: Date
    var editedAt: Date?
    var deleted: Bool

    enum CodingKeys: String, CodingKey {
        case id, seq, body, createdAt, editedAt, deleted
        case conversationID = "conversationId"
        case replyToID = "replyToId"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercased, forKey: .id)
        try container.encode(conversationID.lowercased, forKey: .conversationID)
        try container.encode(seq, forKey: .seq)
        try container.encodeIfPresent(body, forKey: .body)
        try container.encodeIfPresent(replyToID?.lowercased, forKey: .replyToID)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(editedAt, forKey: .editedAt)
        try container.encode(deleted, forKey: .deleted)
    }
}

/// An image the user uploaded, its bytes (as cleaned when uploaded) in base64.
private struct ExportedUpload: Encodable, Sendable {
    var id: String
    var messageId: String?
    var contentType: String
    var width: Int
    var height: Int
    var size: Int64
    var createdAt: Date
    var data: String?
}

extension SQLDatabase {
    fileprivate func exportedMemberships(of userID: UUID) async throws -> [ExportedMembership] {
        try await raw(
            """
            SELECT c.id, c.kind, c.title, m.role, m.joined_at,
                   (SELECT p.user_id FROM members p WHERE p.conversation_id = c.id AND p.user_id <> m.user_id AND c.kind = 'direct') AS peer_id
            FROM members m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.user_id = \(bind: userID)
            ORDER BY m.joined_at, c.id
            """
        ).all().map { row in
            let kind = try row.decode(column: "kind", as: String.self)
            return ExportedMembership(
                conversationId: try row.decodeUUID(column: "id").lowercased,
                kind: kind,
                title: kind == "group" ? try row.decode(column: "title", as: String.self) : nil,
                peerId: try row.decodeOptionalUUID(column: "peer_id")?.lowercased,
                role: try row.decode(column: "role", as: String.self),
                joinedAt: try row.decode(column: "joined_at", as: Date.self)
            )
        }
    }

    /// A page of the user's messages, by conversation and then in order, after `after`.
    fileprivate func exportedMessages(of userID: UUID, after: (conversation: UUID?, seq: Int64), limit: Int) async throws -> [ExportedMessage] {
        var query: SQLQueryString = """
            SELECT id, conversation_id, seq, body, reply_to_id, created_at, edited_at, deleted_at FROM messages
            WHERE sender_id = \(bind: userID)
            """
        if let conversation = after.conversation {
            query = query + " AND (conversation_id > \(bind: conversation) OR (conversation_id = \(bind: conversation) AND seq > \(bind: after.seq)))"
        }
        return try await raw(query + " ORDER BY conversation_id, seq LIMIT \(bind: limit)").all().map { row in
            ExportedMessage(
                id: try row.decodeUUID(column: "id"),
                conversationID: try row.decodeUUID(column: "conversation_id"),
                seq: try row.decode(column: "seq", as: Int64.self),
                body: try row.decode(column: "body", as: String?.self),
                replyToID: try row.decodeOptionalUUID(column: "reply_to_id"),
                createdAt: try row.decode(column: "created_at", as: Date.self),
                editedAt: try row.decode(column: "edited_at", as: Date?.self),
                deleted: try row.decode(column: "deleted_at", as: Date?.self) != nil
            )
        }
    }

    /// The user's uploads, each with the hash of its original's blob.
    fileprivate func exportedUploads(of userID: UUID) async throws -> [(ExportedUpload, String)] {
        try await raw(
            """
            SELECT id, message_id, content_type, width, height, size, created_at, original_hash FROM uploads
            WHERE owner_id = \(bind: userID) ORDER BY created_at, id
            """
        ).all().map { row in
            (
                ExportedUpload(
                    id: try row.decodeUUID(column: "id").lowercased,
                    messageId: try row.decodeOptionalUUID(column: "message_id")?.lowercased,
                    contentType: try row.decode(column: "content_type", as: String.self),
                    width: try row.decode(column: "width", as: Int.self),
                    height: try row.decode(column: "height", as: Int.self),
                    size: try row.decode(column: "size", as: Int64.self),
                    createdAt: try row.decode(column: "created_at", as: Date.self)
                ),
                try row.decode(column: "original_hash", as: String.self)
            )
        }
    }
}

extension DataExport {
    fileprivate init(row: any SQLRow) throws {
        self.init(
            id: try row.decodeUUID(column: "id"),
            userID: try row.decodeUUID(column: "user_id"),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            readyAt: try row.decode(column: "ready_at", as: Date?.self),
            size: try row.decode(column: "size", as: Int64?.self)
        )
    }
}
