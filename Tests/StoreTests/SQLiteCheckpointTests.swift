import Foundation
import SQLKit
import Store
import TestSupport
import Testing

@Suite("SQLite checkpoints", .timeLimit(.minutes(1)))
struct SQLiteCheckpointTests {
    @Test("The WAL is checkpointed in the background, not by the writer: 30 MB written in three batches a few seconds apart leave a WAL of one batch")
    func backgroundCheckpoints() async throws {
        let directory = try Repository.temporaryDirectory("parley-wal")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/parley.sqlite"
        let database = try await SQLiteDatabase.open(path: path, logger: TestBackend.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            try await database.write { try await $0.raw("CREATE TABLE filler (bytes BLOB)").run() }
            for _ in 0..<3 {
                // 10 MB: 2,500 pages, under the writer's own threshold of 10,000.
                for _ in 0..<10 {
                    try await database.write { try await $0.raw("INSERT INTO filler VALUES (randomblob(1000000))").run() }
                }
                try await Task.sleep(for: SQLiteDatabase.checkpointInterval * 3)
            }
            let wal = try #require(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int)
            #expect(wal < 20_000_000, "a WAL of \(wal) bytes: it was not checkpointed between the batches")
            #expect(wal > 5_000_000, "a batch went through the WAL")
            group.cancelAll()
        }
        try await database.close()
    }
}
