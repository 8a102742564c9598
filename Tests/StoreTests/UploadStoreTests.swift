import Foundation
import Models
import Store
import TestSupport
import Testing
import SQLKit

@Suite("Uploaded images in the store", .timeLimit(.minutes(1)))
struct UploadStoreTests {
    /// An upload whose four sizes are the given bytes (the store neither reads nor checks them).
    static func upload(_ seed: String, originalSize: Int = 100) -> NewUpload {
        var original = Data(repeating: UInt8(truncatingIfNeeded: seed.hashValue), count: originalSize)
        original.replaceSubrange(0..<min(seed.utf8.count, originalSize), with: Data(seed.utf8).prefix(originalSize))
        return NewUpload(
            contentType: "image/png",
            width: 10,
            height: 10,
            animated: false,
            variants: [
                .original: original,
                .thumbnail: Data("\(seed) thumbnail".utf8),
                .avatar: Data("\(seed) avatar".utf8),
                .avatarSmall: Data("\(seed) small".utf8),
            ]
        )
    }

    static func count(_ table: String, _ store: Store) async throws -> Int {
        try await store.database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int.self)
        }
    }

    /// The blob files under `directory`, and any temporary file left behind.
    static func files(in directory: String) -> (blobs: Int, temporary: Int) {
        let all = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
            .filter { $0.contains("/") }  // files sit in folders named by their hash's first two digits
        return (all.filter { !$0.hasSuffix(".tmp") }.count, all.filter { $0.hasSuffix(".tmp") }.count)
    }

    /// A store with its media key, whose blobs go (on SQLite) to a fresh folder, given to `body`.
    static func withStore(_ backend: TestBackend, _ body: @escaping @Sendable (Store, String) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "parley-blobs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await backend.withStore(blobs: backend == .sqlite ? FileBlobStore(directory: directory) : nil) { store in
            try await store.loadMediaKey()
            try await body(store, directory)
        }
    }

    @Test("Identical bytes are stored once, under their SHA-256, and read back by every upload that has them", arguments: TestBackend.all)
    func contentAddressed(backend: TestBackend) async throws {
        try await Self.withStore(backend) { store, directory in
            let world = World(store: store)
            let alice = try await world.user("alice")
            let first = try await store.saveUpload(Self.upload("same"), owner: alice, now: World.now)
            let second = try await store.saveUpload(Self.upload("same"), owner: alice, now: World.now)
            #expect(first.id != second.id)
            #expect(try await Self.count("uploads", store) == 2)
            #expect(try await Self.count("blobs", store) == 4, "four sizes, stored once for both uploads")
            for upload in [first.id, second.id] {
                let blob = try #require(try await store.mediaBlob(upload, .thumbnail, viewer: alice))
                #expect(blob.data == Data("same thumbnail".utf8))
                #expect(blob.contentType == "image/webp" && blob.hash.count == 64)
            }
            if backend == .sqlite {
                let files = Self.files(in: directory)
                #expect(files.blobs == 4 && files.temporary == 0)
            }
        }
    }

    @Test("PostgreSQL keeps a large image in 256 KiB chunks and reads it back byte for byte", arguments: TestBackend.all.filter { $0 == .postgres })
    func chunkedInPostgres(backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await store.loadMediaKey()
            let alice = try await World(store: store).user("alice")
            let large = Self.upload("large", originalSize: 600 * 1024 + 7)
            let upload = try await store.saveUpload(large, owner: alice, now: World.now)
            #expect(try await Self.count("blob_chunks", store) == 3 + 3, "three chunks for the original, one for each small size")
            let blob = try #require(try await store.mediaBlob(upload.id, .original, viewer: alice))
            #expect(blob.data == large.variants[.original])
            #expect(blob.contentType == "image/png")
        }
    }

    @Test("Pruning removes uploads unused for a day and the blobs only they had; used ones stay", arguments: TestBackend.all)
    func pruning(backend: TestBackend) async throws {
        try await Self.withStore(backend) { store, directory in
            let world = World(store: store)
            let alice = try await world.user("alice")
            let group = try await world.group(alice)
            let avatar = try await store.saveUpload(Self.upload("avatar"), owner: alice, now: World.now)
            let attached = try await store.saveUpload(Self.upload("attached"), owner: alice, now: World.now)
            let unused = try await store.saveUpload(Self.upload("unused"), owner: alice, now: World.now)
            // The same bytes as the unused one, in use: the shared blobs must stay.
            let twin = try await store.saveUpload(Self.upload("unused"), owner: alice, now: World.now)
            _ = try await store.setAvatar(of: alice, to: avatar.id, now: World.now)
            _ = try await store.sendMessage(to: group, from: alice, clientMessageID: "1", body: "", replyTo: nil, attachments: [attached.id, twin.id], now: World.now)
            let fresh = try await store.saveUpload(Self.upload("fresh"), owner: alice, now: World.now.addingTimeInterval(23 * 3600))

            #expect(try await store.pruneUploads(now: World.now.addingTimeInterval(23 * 3600)) == 0, "nothing is a day old yet")
            #expect(try await store.pruneUploads(now: World.now.addingTimeInterval(25 * 3600)) == 1)
            #expect(try await store.mediaBlob(unused.id, .original, viewer: alice) == nil)
            for kept in [avatar.id, attached.id, twin.id, fresh.id] {
                #expect(try await store.mediaBlob(kept, .original, viewer: alice) != nil)
            }
            #expect(try await Self.count("uploads", store) == 4)
            #expect(try await Self.count("blobs", store) == 16, "four uploads' distinct sizes; the unused one's twin kept them")

            // Deleting the message lets its uploads go at once; their blobs at the next pruning.
            let message = try await store.history(of: group, viewer: alice, HistoryQuery(before: nil, after: nil, limit: 1)).items[0]
            _ = try await store.deleteMessage(message.id, by: alice, now: World.now.addingTimeInterval(25 * 3600))
            #expect(try await store.mediaBlob(attached.id, .original, viewer: alice) == nil)
            _ = try await store.pruneUploads(now: World.now.addingTimeInterval(50 * 3600))
            #expect(try await Self.count("blobs", store) == 4, "the avatar's; the fresh upload, unused, went too")
            if backend == .sqlite {
                #expect(Self.files(in: directory).blobs == 4)
            } else {
                #expect(try await Self.count("blob_chunks", store) == 4)
            }
        }
    }
}
