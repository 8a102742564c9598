package import Foundation
import Logging
package import SQLKit

/// Where the bytes of uploaded images live, each blob under the SHA-256 of its content, so identical
/// images are stored once. Two backends: files under the data folder (with SQLite) and rows of the
/// shared PostgreSQL (so every node serves every image, with nothing else to run).
///
/// Writing is in two steps around the transaction that records the blob: `stage` before it (files
/// are written whole, then renamed into place, so a crash leaves no half file), `record` inside it
/// (PostgreSQL's chunks go in with the row, or not at all). A staged file no row came to point at
/// is deleted by `sweep`.
package protocol BlobStore: Sendable {
    func stage(_ data: Data, hash: String) async throws
    func record(_ data: Data, hash: String, in sql: any SQLDatabase) async throws
    func read(_ hash: String) async throws -> Data?
    /// Deletes blobs whose rows are gone (files); PostgreSQL's chunks went with their rows.
    func remove(_ hashes: [String]) async throws
    /// Deletes staged files older than `cutoff` that no row points at.
    func sweep(keeping known: Set<String>, olderThan cutoff: Date) async throws -> Int
}

/// Blobs as files: `DIRECTORY/ab/abcdef…`, written to a temporary name and renamed into place.
package struct FileBlobStore: BlobStore {
    package let directory: URL

    package init(directory: String) {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
    }

    private func url(_ hash: String) -> URL {
        directory.appendingPathComponent(String(hash.prefix(2)), isDirectory: true).appendingPathComponent(hash)
    }

    package func stage(_ data: Data, hash: String) async throws {
        let target = url(hash)
        if FileManager.default.fileExists(atPath: target.path) { return }
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(hash).\(UUID().uuidString).tmp")
        try data.write(to: temporary, options: .atomic)
        // rename(2) replaces atomically: a reader sees the old file, the new one, or none — never half.
        guard rename(temporary.path, target.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// Writes the file again if pruning removed it since `stage`: pruning removes files inside its
    /// transaction, and SQLite's write transactions take turns.
    package func record(_ data: Data, hash: String, in sql: any SQLDatabase) async throws {
        if !FileManager.default.fileExists(atPath: url(hash).path) { try await stage(data, hash: hash) }
    }

    package func read(_ hash: String) async throws -> Data? {
        try? Data(contentsOf: url(hash))
    }

    package func remove(_ hashes: [String]) async throws {
        for hash in hashes { try? FileManager.default.removeItem(at: url(hash)) }
    }

    package func sweep(keeping known: Set<String>, olderThan cutoff: Date) async throws -> Int {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.contentModificationDateKey]) else {
            return 0
        }
        var removed = 0
        for case let file as URL in enumerator {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                let modified = try? file.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate,
                modified < cutoff, !known.contains(file.lastPathComponent)
            else { continue }
            try? FileManager.default.removeItem(at: file)
            removed += 1
        }
        return removed
    }
}

/// Blobs as rows of `blob_chunks`, 256 KiB each — never one huge bind — written in the transaction
/// that records them.
package struct PostgresBlobStore: BlobStore {
    static let chunkSize = 256 * 1024
    package let database: any Database

    package init(database: any Database) {
        self.database = database
    }

    package func stage(_ data: Data, hash: String) async throws {}

    package func record(_ data: Data, hash: String, in sql: any SQLDatabase) async throws {
        let exists = try await sql.raw("SELECT 1 AS present FROM blob_chunks WHERE hash = \(bind: hash) AND part = 0").first() != nil
        guard !exists else { return }
        for (part, start) in stride(from: 0, to: max(data.count, 1), by: Self.chunkSize).enumerated() {
            let chunk = data.subdata(in: start..<min(start + Self.chunkSize, data.count))
            try await sql.raw("INSERT INTO blob_chunks (hash, part, data) VALUES (\(bind: hash), \(bind: part), \(bind: chunk))").run()
        }
    }

    package func read(_ hash: String) async throws -> Data? {
        try await database.read { sql in
            let rows = try await sql.raw("SELECT data FROM blob_chunks WHERE hash = \(bind: hash) ORDER BY part").all()
            guard !rows.isEmpty else { return nil }
            return try rows.reduce(into: Data()) { $0 += try $1.decode(column: "data", as: Data.self) }
        }
    }

    package func remove(_ hashes: [String]) async throws {}

    package func sweep(keeping known: Set<String>, olderThan cutoff: Date) async throws -> Int { 0 }
}
