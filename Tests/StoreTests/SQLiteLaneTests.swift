import Foundation
import SQLKit
import Store
import TestSupport
import Testing

@Suite("SQLite connections and their threads", .timeLimit(.minutes(1)))
struct SQLiteLaneTests {
    private func open() async throws -> (SQLiteDatabase, directory: String) {
        let directory = try Repository.temporaryDirectory("parley-lanes")
        let database = try await SQLiteDatabase.open(path: "\(directory)/parley.sqlite", logger: TestBackend.logger)
        try await database.write { try await $0.raw("CREATE TABLE numbers (n INTEGER)").run() }
        return (database, directory)
    }

    @Test("A write transaction runs whole on the writer's thread: its statements and the code between them")
    func writesStayOnOneThread() async throws {
        let (database, directory) = try await open()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let threads = try await database.write { sql in
            var threads = [Self.currentThread()]
            for n in 0..<20 {
                try await sql.raw("INSERT INTO numbers VALUES (\(bind: n))").run()
                threads.append(Self.currentThread())
            }
            return threads
        }
        #expect(Set(threads.map(\.id)).count == 1, "\(Set(threads.map(\.id)).count) threads ran one transaction")
        // The connection's own thread (SwiftNIO names a thread pool's threads "TP-#…"), not a cooperative one.
        #expect(threads.allSatisfy { $0.name.hasPrefix("TP-#") }, "\(Set(threads.map(\.name)))")
        try await database.close()
    }

    private static func currentThread() -> (id: UInt, name: String) {
        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return (UInt(pthread_self()), name.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("Reads and writes racing the database's close fail or finish; none is left waiting")
    func closeUnderLoad() async throws {
        let (database, directory) = try await open()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcomes = try await withThrowingTaskGroup(of: (finished: Int, failed: Int).self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var (finished, failed) = (0, 0)
                    for n in 0..<200 {
                        do {
                            if worker % 2 == 0 {
                                _ = try await database.read { try await $0.raw("SELECT count(*) AS c FROM numbers").first() }
                            } else {
                                try await database.write { try await $0.raw("INSERT INTO numbers VALUES (\(bind: n))").run() }
                            }
                            finished += 1
                        } catch {
                            failed += 1
                        }
                    }
                    return (finished, failed)
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            try await database.close()
            return try await group.reduce(into: [(finished: Int, failed: Int)]()) { $0.append($1) }
        }
        #expect(outcomes.count == 16)
        #expect(outcomes.map(\.failed).reduce(0, +) > 0, "the close came after all 3,200 operations: nothing raced it")
        #expect(outcomes.map(\.finished).reduce(0, +) > 0)
    }
}
