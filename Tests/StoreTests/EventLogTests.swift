import Foundation
import Models
@testable import Store
import TestSupport
import Testing

@Suite("Event log", .timeLimit(.minutes(1)))
struct EventLogTests {
    /// An event whose data carries `n`.
    static func payload(_ n: Int) -> EventPayload {
        .receiptUpdated(ReceiptData(conversationID: UUID(), userID: UUID(), lastReadSeq: Int64(n)))
    }

    static func n(_ event: Event) -> Int? {
        guard case .receiptUpdated(let data) = event.payload else { return nil }
        return Int(data.lastReadSeq)
    }

    @Test("Fifty concurrent appends to one stream get seqs 1...50, no gap, no duplicate", arguments: TestBackend.all)
    func concurrentAppendsAreGapless(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let stream = StreamID.user(UUID())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 1...50 {
                    group.addTask {
                        try await store.write { transaction in
                            _ = try await transaction.append(to: stream, Self.payload(n), at: Date())
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await store.events(in: stream, after: 0, limit: 100)
            #expect(events.map(\.seq) == Array(1...50))
            let payloads = events.compactMap(Self.n)
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
                try await store.write { transaction in
                    _ = try await transaction.append(to: stream, Self.payload(n), at: Date())
                }
            }
            try await append(1)
            await #expect(throws: Abort.self) {
                try await store.write { transaction in
                    _ = try await transaction.append(to: stream, Self.payload(2), at: Date())
                    throw Abort()
                }
            }
            try await append(3)
            let events = try await store.events(in: stream, after: 0, limit: 10)
            #expect(events.map(\.seq) == [1, 2])
            #expect(events.compactMap(Self.n) == [1, 3])
        }
    }

    @Test("Streams number their events independently and pages follow the cursor", arguments: TestBackend.all)
    func streamsAreIndependentAndPaged(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let a = StreamID.user(UUID())
            let b = StreamID.user(UUID())
            for n in 1...5 {
                try await store.write { transaction in
                    _ = try await transaction.append(to: a, Self.payload(n), at: Date())
                    _ = try await transaction.append(to: b, Self.payload(n), at: Date())
                }
            }
            #expect(try await store.events(in: a, after: 2, limit: 2).map(\.seq) == [3, 4])
            #expect(try await store.events(in: b, after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4, 5])
            #expect(try await store.events(in: .user(UUID()), after: 0, limit: 10).isEmpty)
            #expect(try await store.lastSeq(of: .user(UUID())) == 0)
        }
    }
}
