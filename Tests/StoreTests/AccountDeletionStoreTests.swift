import Foundation
import Models
import SQLKit
import Store
import TestSupport
import Testing

/// The account-deletion job, step by step: stopped halfway, as by a crash, it resumes once its
/// lease runs out and ends where an uninterrupted run would, nothing done twice.
@Suite("Account deletion in the store", .timeLimit(.minutes(1)))
struct AccountDeletionStoreTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("A deletion stopped halfway resumes after its lease and completes once", arguments: TestBackend.all)
    func resumesAfterACrash(backend: TestBackend) async throws {
        try await backend.withStore { store in
            let session = { NewSession(deviceName: nil, userAgent: nil, refreshToken: RefreshTokenRecord(hash: UUID().uuidString, expiresAt: Self.now + 3600)) }
            let (alice, _) = try await store.register(AccountStoreTests.account("alice", "alice@example.com"), session: session(), now: Self.now)
            let (bob, _) = try await store.register(AccountStoreTests.account("bob", "bob@example.com"), session: session(), now: Self.now)
            let group = try await store.createGroup(owner: alice.id, title: "G", description: "", memberIDs: [bob.id], limits: MembershipLimits(), now: Self.now)
            for n in 1...3 {
                _ = try await store.sendMessage(to: group.id, from: alice.id, clientMessageID: "\(n)", body: "secret \(n)", replyTo: nil, now: Self.now)
            }

            #expect(try await store.beginAccountDeletion(userID: alice.id, deleteMessages: true, now: Self.now)?.count == 1)
            #expect(try await store.beginAccountDeletion(userID: alice.id, deleteMessages: true, now: Self.now) == nil, "once")
            let claimed = try #require(try await store.claimAccountDeletion(now: Self.now, leaseEnd: Self.now + 60))
            #expect(claimed == AccountDeletion(userID: alice.id, deleteMessages: true))
            #expect(try await store.claimAccountDeletion(now: Self.now + 1, leaseEnd: Self.now + 61) == nil, "leased")
            // Two steps, then the node "crashes": one message is left, and she is still in the group.
            #expect(try await store.continueAccountDeletion(claimed, batch: 1, now: Self.now))
            #expect(try await store.continueAccountDeletion(claimed, batch: 1, now: Self.now))
            #expect(try await store.pendingAccountDeletions() == 1)

            let resumed = try #require(try await store.claimAccountDeletion(now: Self.now + 61, leaseEnd: Self.now + 121))
            var steps = 0
            while try await store.continueAccountDeletion(resumed, batch: 1, now: Self.now + 61) { steps += 1 }
            #expect(steps == 2, "the last message, then the group")
            #expect(try await store.pendingAccountDeletions() == 0)

            let events = try await store.events(in: .conversation(group.id), after: 0, limit: 100)
            let deleted = events.compactMap { if case .messageDeleted(let data) = $0.payload { data.seq } else { nil } }
            #expect(deleted.sorted() == deleted && Set(deleted).count == 3, "each message deleted exactly once")
            #expect(!events.contains { event in
                if case .messageCreated(let message) = event.payload { message.body != nil } else { false }
            }, "no text left in the log")
            let roles = events.compactMap { if case .memberUpdated(let data) = $0.payload { data } else { nil } }
            #expect(roles.map(\.userID) == [bob.id] && roles.first?.role == .owner)
            let departures = events.compactMap { if case .memberRemoved(let data) = $0.payload { data } else { nil } }
            #expect(departures.map(\.userID) == [alice.id])

            // Gone from sign-in; name and address reserved until the grace period ends.
            #expect(try await store.credentials(forLogin: "alice") == nil)
            #expect(try await store.credentials(forLogin: "alice@example.com") == nil)
            await #expect(throws: Problem.usernameTaken) { try await store.checkAvailable(username: "alice", email: "new@example.com") }
            await #expect(throws: Problem.emailTaken) { try await store.checkAvailable(username: "alice2", email: "ALICE@example.com") }
            #expect(try await store.releaseDeletedNames(now: Self.now + 29 * 24 * 3600) == 0)
            #expect(try await store.releaseDeletedNames(now: Self.now + 31 * 24 * 3600) == 1)
            try await store.checkAvailable(username: "alice", email: "alice@example.com")
            #expect(try await store.releaseDeletedNames(now: Self.now + 32 * 24 * 3600) == 0, "once")
            let profile = try #require(try await store.user(id: alice.id))
            #expect(profile.displayName == Store.deletedDisplayName && profile.username.hasPrefix("deleted-"))
        }
    }
}
