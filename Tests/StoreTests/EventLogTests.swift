import Foundation
import Models
import Store
import TestSupport
import Testing

@Suite("Event log", .timeLimit(.minutes(1)))
struct EventLogTests {
    struct Payload: Codable, Equatable {
        var n: Int
    }

    @Test("Fifty concurrent appends to one stream get seqs 1...50, no gap, no duplicate", arguments: TestBackend.all)
    func concurrentAppendsAreGapless(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let stream = StreamID.user(UUID())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 1...50 {
                    group.addTask {
                        try await store.database.write { transaction in
                            _ = try await transaction.append(to: stream, .userUpdated, Payload(n: n), at: Date())
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await store.events(in: stream, after: 0, limit: 100)
            #expect(events.map(\.seq) == Array(1...50))
            let payloads = try events.map { try JSONDecoder().decode(Payload.self, from: $0.data).n }
            #expect(Set(payloads) == Set(1...50))
            #expect(try await store.lastSeq(of: stream) == 50)
        }
    }

    @Test("A rolled-back append leaves no gap", arguments: TestBackend.all)
    func rolledBackAppendLeavesNoGap(backend: TestBackend) async throws {
        struct Abort: Error {}
        try await backend.withStore { store in
            let stream = StreamID.conversation(UUID())
            let append: @Sendable (Int) async throws -> Void = { n in
                try await store.database.write { transaction in
                    _ = try await transaction.append(to: stream, .userUpdated, Payload(n: n), at: Date())
                }
            }
            try await append(1)
            await #expect(throws: Abort.self) {
                try await store.database.write { transaction in
                    _ = try await transaction.append(to: stream, .userUpdated, Payload(n: 2), at: Date())
                    throw Abort()
                }
            }
            try await append(3)
            let events = try await store.events(in: stream, after: 0, limit: 10)
            #expect(events.map(\.seq) == [1, 2])
            #expect(try events.map { try JSONDecoder().decode(Payload.self, from: $0.data).n } == [1, 3])
        }
    }

    @Test("Streams number their events independently and pages follow the cursor", arguments: TestBackend.all)
    func streamsAreIndependentAndPaged(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let a = StreamID.user(UUID())
            let b = StreamID.user(UUID())
            for n in 1...5 {
                try await store.database.write { transaction in
                    _ = try await transaction.append(to: a, .userUpdated, Payload(n: n), at: Date())
                    _ = try await transaction.append(to: b, .userUpdated, Payload(n: n), at: Date())
                }
            }
            #expect(try await store.events(in: a, after: 2, limit: 2).map(\.seq) == [3, 4])
            #expect(try await store.events(in: b, after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4, 5])
            #expect(try await store.events(in: .user(UUID()), after: 0, limit: 10).isEmpty)
            #expect(try await store.lastSeq(of: .user(UUID())) == 0)
        }
    }
}
