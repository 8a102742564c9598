import Crypto
package import Foundation
package import Models
import SQLKit

/// An image processed for storage: the cleaned original and its sizes, each to be stored under the
/// SHA-256 of its bytes.
package struct NewUpload: Sendable {
    package var contentType: String
    package var width: Int
    package var height: Int
    package var animated: Bool
    package var variants: [MediaVariant: Data]

    package init(contentType: String, width: Int, height: Int, animated: Bool, variants: [MediaVariant: Data]) {
        self.contentType = contentType
        self.width = width
        self.height = height
        self.animated = animated
        self.variants = variants
    }
}

/// One stored size of an upload, ready to serve.
package struct MediaBlob: Sendable {
    package var data: Data
    package var contentType: String
    /// The SHA-256 of `data`, hex: a strong validator.
    package var hash: String
}

extension Store {
    /// How long an upload may wait to be attached, used as an avatar or as an icon before it goes.
    package static let unattachedLifetime: TimeInterval = 24 * 3600

    // MARK: - Uploading

    /// Stores an uploaded image: its blobs first (files written whole, then renamed into place),
    /// then in one transaction the rows that point at them.
    package func saveUpload(_ upload: NewUpload, owner: UUID, now: Date) async throws -> Upload {
        var hashes: [MediaVariant: String] = [:]
        for (variant, data) in upload.variants {
            let hash = Self.sha256(data)
            hashes[variant] = hash
            try await blobs.stage(data, hash: hash)
        }
        guard let original = upload.variants[.original], hashes.count == MediaVariant.allCases.count else {
            throw StoreError.noRowReturned("uploads")
        }
        let id = UUID()
        let blobs = blobs
        let stored = hashes
        try await write { transaction in
            for (variant, data) in upload.variants {
                guard let hash = stored[variant] else { continue }
                let inserted = try await transaction.sql.raw(
                    """
                    INSERT INTO blobs (hash, size, created_at) VALUES (\(bind: hash), \(bind: data.count), \(bind: now))
                    ON CONFLICT (hash) DO NOTHING RETURNING hash
                    """
                ).first()
                if inserted != nil { try await blobs.record(data, hash: hash, in: transaction.sql) }
            }
            try await transaction.sql.raw(
                """
                INSERT INTO uploads (id, owner_id, content_type, size, width, height, animated,
                                     original_hash, thumbnail_hash, avatar_hash, avatar_small_hash, created_at)
                VALUES (\(bind: id), \(bind: owner), \(bind: upload.contentType), \(bind: original.count), \(bind: upload.width),
                        \(bind: upload.height), \(bind: upload.animated ? 1 : 0), \(bind: stored[.original]), \(bind: stored[.thumbnail]),
                        \(bind: stored[.avatar]), \(bind: stored[.avatarSmall]), \(bind: now))
                """
            ).run()
        }
        return Upload(
            id: id,
            contentType: upload.contentType,
            size: original.count,
            width: upload.width,
            height: upload.height,
            url: media.url(id, .original, for: .viewer(owner)) ?? "",
            thumbnailURL: media.url(id, .thumbnail, for: .viewer(owner)) ?? "",
            createdAt: now
        )
    }

    // MARK: - Serving

    /// The bytes of an upload in `variant`, if whom the link was handed to (`viewer`; nil for links
    /// in events) may still see it; nil otherwise — the answer does not say which. The link's
    /// signature is checked before (`MediaLinks.verify`).
    ///
    /// Avatars and group icons in use are for any signed-in user; a message's images for the members
    /// of its conversation — a link bound to one member stops working when they leave, and every link
    /// stops when the message is deleted (its uploads go with it); an upload not yet used is its
    /// uploader's alone.
    package func mediaBlob(_ upload: UUID, _ variant: MediaVariant, viewer: UUID?) async throws -> MediaBlob? {
        let row = try await read { sql in
            try await sql.raw(
                """
                SELECT u.owner_id, u.content_type, u.message_id, u.\(unsafeRaw: variant.hashColumn) AS hash,
                       CASE WHEN EXISTS (SELECT 1 FROM users a WHERE a.avatar_upload_id = u.id)
                              OR EXISTS (SELECT 1 FROM conversations i WHERE i.icon_upload_id = u.id) THEN 1 ELSE 0 END AS shown_to_all,
                       CASE WHEN EXISTS (SELECT 1 FROM messages m JOIN members v ON v.conversation_id = m.conversation_id
                                         WHERE m.id = u.message_id AND v.user_id = \(bind: viewer)) THEN 1 ELSE 0 END AS viewer_is_member
                FROM uploads u WHERE u.id = \(bind: upload)
                """
            ).first()
        }
        guard let row else { return nil }
        let shownToAll = try row.decode(column: "shown_to_all", as: Int64.self) == 1
        let inMessage = try row.decodeOptionalUUID(column: "message_id") != nil
        let viewerIsMember = try row.decode(column: "viewer_is_member", as: Int64.self) == 1
        let owner = try row.decodeUUID(column: "owner_id")
        let allowed = shownToAll || (inMessage ? viewer == nil || viewerIsMember : viewer == owner)
        guard allowed else { return nil }
        let hash = try row.decode(column: "hash", as: String.self)
        guard let data = try await blobs.read(hash) else { return nil }
        let contentType = variant == .original ? try row.decode(column: "content_type", as: String.self) : "image/webp"
        return MediaBlob(data: data, contentType: contentType, hash: hash)
    }

    // MARK: - Avatars and icons

    /// Makes one of the user's own uploads their avatar (nil: none); announces the change
    /// (`Transaction.profileChanged`).
    package func setAvatar(of userID: UUID, to upload: UUID?, now: Date) async throws -> User? {
        try await write { transaction in
            if let upload { try await transaction.requireOwnUpload(upload, of: userID, field: "uploadId") }
            let audience = try await transaction.lockProfileAudience(of: userID)
            let row = try await transaction.sql.raw(
                """
                UPDATE users SET avatar_upload_id = \(bind: upload), updated_at = \(bind: now) WHERE id = \(bind: userID)
                RETURNING \(unsafeRaw: UserRow.columns)
                """
            ).first()
            guard let row else { return nil }
            let user = try UserRow(row: row).user(transaction.media)
            try await transaction.profileChanged(user, to: audience, at: now)
            return user
        }
    }

    /// Makes one of the actor's uploads a group's icon (nil: none); admins and the owner only.
    /// Appends `conversation.updated`.
    package func setIcon(of groupID: UUID, to upload: UUID?, by actorID: UUID, now: Date) async throws -> Conversation {
        try await write { transaction in
            try await transaction.lockConversation(groupID)
            _ = try await transaction.sql.authorize(actorID, in: groupID, atLeast: .admin, groupOnly: true)
            if let upload { try await transaction.requireOwnUpload(upload, of: actorID, field: "uploadId") }
            try await transaction.sql.raw("UPDATE conversations SET icon_upload_id = \(bind: upload) WHERE id = \(bind: groupID)").run()
            try await transaction.append(to: .conversation(groupID), .conversationUpdated(try await transaction.conversationData(groupID)), at: now)
        }
        guard let view = try await conversation(groupID, viewer: actorID) else { throw Problem.notFound("No such group.") }
        return view
    }

    // MARK: - Pruning

    /// Deletes uploads nobody used within a day, then the blobs no upload points at any more, and
    /// staged files that never got a row.
    package func pruneUploads(now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Self.unattachedLifetime)
        let uploads = try await pruneInBatches(
            table: "uploads",
            key: "id",
            where: """
                message_id IS NULL AND created_at < \(bind: cutoff)
                AND id NOT IN (SELECT avatar_upload_id FROM users WHERE avatar_upload_id IS NOT NULL)
                AND id NOT IN (SELECT icon_upload_id FROM conversations WHERE icon_upload_id IS NOT NULL)
                """
        )
        let blobs = blobs
        try await write { transaction in
            let orphans = try await transaction.sql.raw(
                """
                DELETE FROM blobs WHERE created_at < \(bind: cutoff) AND NOT EXISTS (
                    SELECT 1 FROM uploads u WHERE u.original_hash = blobs.hash OR u.thumbnail_hash = blobs.hash
                        OR u.avatar_hash = blobs.hash OR u.avatar_small_hash = blobs.hash)
                RETURNING hash
                """
            ).all().map { try $0.decode(column: "hash", as: String.self) }
            // Inside the transaction: an upload of the same bytes waits for it, then writes them again.
            try await blobs.remove(orphans)
        }
        let known = Set(
            try await read { try await $0.raw("SELECT hash FROM blobs").all().map { try $0.decode(column: "hash", as: String.self) } }
        )
        _ = try await blobs.sweep(keeping: known, olderThan: now.addingTimeInterval(-3600))
        return uploads
    }

    /// Installs the key that signs media links: the first node to start makes it, in the database,
    /// so that every node verifies every node's links.
    package func loadMediaKey(now: Date = Date()) async throws {
        media.install(try await loadSecret("media_links", making: MediaLinks.makeSecret, now: now))
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

extension Transaction {
    /// Refuses an upload that is not `userID`'s own, or is a message's image.
    func requireOwnUpload(_ upload: UUID, of userID: UUID, field: String) async throws {
        let owned = try await sql.raw(
            "SELECT 1 AS owned FROM uploads WHERE id = \(bind: upload) AND owner_id = \(bind: userID) AND message_id IS NULL"
        ).first()
        guard owned != nil else { throw Problem.invalidField(field, .notFound, "No upload of yours that is not in a message has this id.") }
    }

    /// Attaches uploads to a new message, in order. `unusedUploads` checked them; this claims them,
    /// so that of two messages racing for one upload, one fails.
    func attach(_ uploads: [UUID], to messageID: UUID, by senderID: UUID) async throws {
        for (position, upload) in uploads.enumerated() {
            let attached = try await sql.raw(
                """
                UPDATE uploads SET message_id = \(bind: messageID), position = \(bind: position)
                WHERE id = \(bind: upload) AND owner_id = \(bind: senderID) AND message_id IS NULL
                RETURNING id
                """
            ).first()
            guard attached != nil else { throw Problem.invalidField("attachments[\(position)]", .notFound, Self.unusableUpload) }
        }
    }

    static let unusableUpload = "No upload of yours that is not in a message, nor your avatar or a group icon, has this id."
}

extension SQLDatabase {
    /// The uploads a new message may carry, as attachments with links for events: each must be
    /// `senderID`'s own, in no message, not an avatar or icon, and named once.
    func unusedUploads(_ ids: [UUID], of senderID: UUID, links: MediaLinks) async throws -> [Attachment] {
        guard !ids.isEmpty else { return [] }
        let rows = try await raw(
            """
            SELECT id, content_type, size, width, height FROM uploads u
            WHERE id IN (\(binds: ids)) AND owner_id = \(bind: senderID) AND message_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM users a WHERE a.avatar_upload_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM conversations i WHERE i.icon_upload_id = u.id)
            """
        ).all()
        let found = Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decodeUUID(column: "id"), $0) })
        var errors: [FieldError] = []
        var seen: Set<UUID> = []
        var attachments: [Attachment] = []
        for (position, id) in ids.enumerated() {
            guard seen.insert(id).inserted else {
                errors.append(FieldError(field: "attachments[\(position)]", code: .duplicate, detail: "This upload is named twice."))
                continue
            }
            guard let row = found[id] else {
                errors.append(FieldError(field: "attachments[\(position)]", code: .notFound, detail: Transaction.unusableUpload))
                continue
            }
            attachments.append(try Attachment(row: row, links: links, for: .event))
        }
        guard errors.isEmpty else { throw Problem.validationFailed(errors) }
        return attachments
    }

    /// The attachments of `messageIDs`, in order, with links for `audience`.
    func attachments(of messageIDs: [UUID], links: MediaLinks, for audience: MediaLinks.Audience) async throws -> [UUID: [Attachment]] {
        guard !messageIDs.isEmpty else { return [:] }
        let rows = try await raw(
            """
            SELECT id, message_id, content_type, size, width, height FROM uploads
            WHERE message_id IN (\(binds: messageIDs)) ORDER BY message_id, position
            """
        ).all()
        var attachments: [UUID: [Attachment]] = [:]
        for row in rows {
            attachments[try row.decodeUUID(column: "message_id"), default: []].append(try Attachment(row: row, links: links, for: audience))
        }
        return attachments
    }
}

extension Attachment {
    /// An attachment from an `uploads` row, its links signed for `audience`.
    init(row: any SQLRow, links: MediaLinks, for audience: MediaLinks.Audience) throws {
        let id = try row.decodeUUID(column: "id")
        self.init(
            id: id,
            contentType: try row.decode(column: "content_type", as: String.self),
            width: try row.decode(column: "width", as: Int.self),
            height: try row.decode(column: "height", as: Int.self),
            size: try row.decode(column: "size", as: Int.self),
            url: links.url(id, .original, for: audience) ?? "",
            thumbnailURL: links.url(id, .thumbnail, for: audience) ?? ""
        )
    }
}
