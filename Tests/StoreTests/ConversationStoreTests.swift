import Foundation
import Models
import Store
import TestSupport
import Testing

/// Users and conversations for store tests.
struct World {
    let store: Store
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ name: String, displayName: String? = nil) async throws -> UUID {
        let account = NewAccount(username: name, email: "\(name)@example.com", displayName: displayName ?? name.capitalized, passwordHash: "x")
        let session = NewSession(deviceName: nil, userAgent: nil, refreshToken: RefreshTokenRecord(hash: UUID().uuidString, expiresAt: Self.now))
        return try await store.register(account, session: session, now: Self.now).0.id
    }

    func group(_ owner: UUID, _ members: [UUID] = [], title: String = "Team", max: Int = 1000) async throws -> UUID {
        try await store.createGroup(owner: owner, title: title, description: "", memberIDs: members, limits: MembershipLimits(maxMembers: max), now: Self.now).id
    }

    @discardableResult
    func send(_ body: String, from sender: UUID, to conversation: UUID, id: String = UUID().uuidString, replyTo: UUID? = nil) async throws -> Message {
        try await store.sendMessage(to: conversation, from: sender, clientMessageID: id, body: body, replyTo: replyTo, now: Self.now).message
    }

    func eventTypes(_ stream: StreamID) async throws -> [String] {
        try await store.events(in: stream, after: 0, limit: 1000).map(\.type.rawValue)
    }
}

extension TestBackend {
    func withWorld(_ body: @escaping @Sendable (World) async throws -> Void) async throws {
        try await withStore { store in try await body(World(store: store)) }
    }
}

func expectProblem(_ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch let problem as Problem {
        #expect(problem.code == code, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Conversations in the store", .timeLimit(.minutes(1)))
struct ConversationStoreTests {
    @Test("A direct conversation is one per pair, even when both open it at once", arguments: TestBackend.all)
    func directConversationsAreUniquePerPair(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let bob = try await world.user("bob", displayName: "Bob B")
            let opened = try await withThrowingTaskGroup(of: (UUID, Bool).self) { group in
                for n in 0..<10 {
                    group.addTask {
                        let (from, to) = n.isMultiple(of: 2) ? (alice, bob) : (bob, alice)
                        let result = try await world.store.openDirectConversation(from: from, with: to, limits: MembershipLimits(), now: World.now)
                        return (result.conversation.id, result.created)
                    }
                }
                return try await group.reduce(into: [(UUID, Bool)]()) { $0.append($1) }
            }
            #expect(Set(opened.map(\.0)).count == 1)
            #expect(opened.filter(\.1).count == 1)
            let view = try #require(try await world.store.conversation(opened[0].0, viewer: alice))
            #expect(view.kind == .direct)
            #expect(view.title == "Bob B")
            #expect(view.memberCount == 2)
            #expect(try await world.eventTypes(.conversation(view.id)) == ["conversation.created", "member.added", "member.added"])
            #expect(try await world.eventTypes(.user(bob)) == ["conversation.joined"])
        }
    }

    @Test("Blocking stops the blocked from opening or writing to a direct conversation, not the blocker", arguments: TestBackend.all)
    func blockingRefusesTheBlocked(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let alice = try await world.user("alice")
            let mallory = try await world.user("mallory")
            let carol = try await world.user("carol")
            _ = try await world.store.block(owner: alice, target: mallory, now: World.now)
            await expectProblem(.forbidden) { _ = try await world.store.openDirectConversation(from: mallory, with: alice, limits: MembershipLimits(), now: World.now) }
            // Existing conversations refuse the blocked sender too; the blocker may still write.
            let direct = try await world.store.openDirectConversation(from: alice, with: mallory, limits: MembershipLimits(), now: World.now).conversation.id
            await expectProblem(.forbidden) { try await world.send("hi", from: mallory, to: direct) }
            try await world.send("hi", from: alice, to: direct)
            _ = try await world.store.openDirectConversation(from: carol, with: alice, limits: MembershipLimits(), now: World.now)
            #expect(try await world.store.unblock(owner: alice, target: mallory))
            try await world.send("sorry", from: mallory, to: direct)
            await expectProblem(.validationFailed) { _ = try await world.store.openDirectConversation(from: alice, with: alice, limits: MembershipLimits(), now: World.now) }
            await expectProblem(.notFound) { _ = try await world.store.openDirectConversation(from: alice, with: UUID(), limits: MembershipLimits(), now: World.now) }
        }
    }

    @Test("Group administration follows the roles", arguments: TestBackend.all)
    func groupAdministration(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let owner = try await world.user("owner")
            let admin = try await world.user("admin")
            let member = try await world.user("member")
            let other = try await world.user("other")
            let stranger = try await world.user("stranger")
            let group = try await world.group(owner, [admin, member, other])
            _ = try await world.store.changeRole(of: admin, in: group, to: .admin, by: owner, now: World.now)

            await expectProblem(.notFound) { _ = try await world.store.members(of: group, viewer: stranger) }
            await expectProblem(.forbidden) { _ = try await world.store.updateGroup(group, by: member, title: "x", description: nil, now: World.now) }
            await expectProblem(.forbidden) { _ = try await world.store.changeRole(of: member, in: group, to: .admin, by: admin, now: World.now) }
            await expectProblem(.forbidden) { try await world.store.removeMember(other, from: group, by: member, now: World.now) }
            await expectProblem(.forbidden) { try await world.store.removeMember(owner, from: group, by: admin, now: World.now) }
            await expectProblem(.forbidden) { try await world.store.deleteGroup(group, by: admin, now: World.now) }

            _ = try await world.store.updateGroup(group, by: admin, title: "Renamed", description: "About", now: World.now)
            try await world.store.removeMember(other, from: group, by: admin, now: World.now)
            _ = try await world.store.addMembers([stranger, member], to: group, by: admin, limits: MembershipLimits(), now: World.now)
            await expectProblem(.ownerMustTransfer) { try await world.store.removeMember(owner, from: group, by: owner, now: World.now) }

            let promoted = try await world.store.changeRole(of: member, in: group, to: .owner, by: owner, now: World.now)
            #expect(promoted.role == .owner)
            let roles = Dictionary(uniqueKeysWithValues: try await world.store.members(of: group, viewer: owner).map { ($0.user.id, $0.role) })
            #expect(roles == [owner: .admin, admin: .admin, member: .owner, stranger: .member])
            // The new owner may remove admins; the old owner may now leave.
            try await world.store.removeMember(admin, from: group, by: member, now: World.now)
            try await world.store.removeMember(owner, from: group, by: owner, now: World.now)
            #expect(try await world.store.conversation(group, viewer: owner) == nil)
            #expect(try await world.store.conversation(group, viewer: member)?.title == "Renamed")
            #expect(try await world.eventTypes(.user(other)) == ["conversation.joined", "notification.created", "conversation.left"])
        }
    }

    @Test("The last member leaving deletes the group; deleting twice is 404", arguments: TestBackend.all)
    func lastMemberLeavingDeletes(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let owner = try await world.user("owner")
            let solo = try await world.group(owner)
            try await world.store.removeMember(owner, from: solo, by: owner, now: World.now)
            #expect(try await world.store.conversation(solo, viewer: owner) == nil)

            let member = try await world.user("member")
            let group = try await world.group(owner, [member])
            try await world.send("hello", from: member, to: group)
            try await world.store.deleteGroup(group, by: owner, now: World.now)
            await expectProblem(.notFound) { try await world.store.deleteGroup(group, by: owner, now: World.now) }
            #expect(try await world.eventTypes(.user(member)).last == "conversation.left")
            // Its history goes with it: the stream's log is gone too.
            #expect(try await world.eventTypes(.conversation(group)).isEmpty)
            #expect(try await world.store.lastSeq(of: .conversation(group)) == 0)
        }
    }

    @Test("A group holds at most its member limit; unknown users are refused by field", arguments: TestBackend.all)
    func memberLimit(backend: TestBackend) async throws {
        try await backend.withWorld { world in
            let owner = try await world.user("owner")
            let a = try await world.user("aaa")
            let b = try await world.user("bbb")
            await expectProblem(.groupFull) { _ = try await world.group(owner, [a, b], max: 2) }
            let group = try await world.group(owner, [a], max: 2)
            await expectProblem(.groupFull) {
                _ = try await world.store.addMembers([b], to: group, by: owner, limits: MembershipLimits(maxMembers: 2), now: World.now)
            }
            // Already a member: nothing to add, so no limit is hit.
            _ = try await world.store.addMembers([a], to: group, by: owner, limits: MembershipLimits(maxMembers: 2), now: World.now)
            await expectProblem(.validationFailed) { _ = try await world.group(owner, [UUID()]) }
        }
    }
}
