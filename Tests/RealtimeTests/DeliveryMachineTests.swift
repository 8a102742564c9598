import Foundation
import Models
@testable import Realtime
import Testing

/// The delivery rules without sockets or a database: inputs in, actions out.
@Suite("Delivery state machine")
struct DeliveryMachineTests {
    static let me = UUID()
    static let session = UUID()
    static let other = UUID()
    static let group = UUID()
    static let stream = StreamID.conversation(group)
    static let mine = StreamID.user(me)

    /// A message event of `stream` at `seq`.
    static func message(_ seq: Int64, in stream: StreamID = stream) -> FramedEvent {
        let message = Message(
            id: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", seq))!, conversationID: group, seq: seq, senderID: other, body: "m\(seq)", clientMessageID: "c\(seq)",
            replyToID: nil, createdAt: Date(timeIntervalSince1970: 0), editedAt: nil, isDeleted: false
        )
        return event(seq, in: stream, .messageCreated(message))
    }

    static func event(_ seq: Int64, in stream: StreamID, _ payload: EventPayload) -> FramedEvent {
        try! FramedEvent(Event(stream: stream, seq: seq, ts: Date(timeIntervalSince1970: 0), payload: payload))
    }

    static func added(_ seq: Int64, user: UUID = me) -> FramedEvent {
        let profile = PublicUser(id: user, username: "u", displayName: "U", createdAt: Date(timeIntervalSince1970: 0))
        return event(seq, in: stream, .memberAdded(MemberAddedData(conversationID: group, user: profile, role: .member, joinedAt: Date(timeIntervalSince1970: 0), addedBy: other)))
    }

    static func removed(_ seq: Int64, user: UUID = me) -> FramedEvent {
        event(seq, in: stream, .memberRemoved(MemberRemovedData(conversationID: group, userID: user, removedBy: other, reason: .removed)))
    }

    static func joined(_ seq: Int64, at joinedAtSeq: Int64) -> FramedEvent {
        let data = ConversationData(
            id: group, kind: .group, title: "G", description: nil, iconURL: nil, createdAt: Date(timeIntervalSince1970: 0), createdBy: other, memberCount: 2
        )
        return event(seq, in: mine, .conversationJoined(ConversationJoinedData(conversation: data, role: .member, joinedAtSeq: joinedAtSeq)))
    }

    static func machine(_ positions: [StreamID: Int64], started: Bool = true, pageSize: Int = 100, maxHeld: Int = 100) -> Delivery {
        var delivery = Delivery(userID: me, sessionID: session, positions: positions, pageSize: pageSize, maxHeld: maxHeld)
        if started { _ = delivery.start() }
        return delivery
    }

    /// The seqs of the events an action list sends, in order.
    static func sent(_ actions: [Delivery.Action]) -> [Int64] {
        actions.compactMap { if case .send(let event) = $0 { event.event.seq } else { nil } }
    }

    @Test("The next event goes out; a duplicate is skipped")
    func nextAndDuplicate() {
        var delivery = Self.machine([Self.stream: 3])
        #expect(delivery.received(Self.message(4)) == [.send(Self.message(4))])
        #expect(delivery.received(Self.message(4)).isEmpty)
        #expect(delivery.received(Self.message(2)).isEmpty)
        #expect(delivery.positions[Self.stream] == 4)
    }

    @Test("A gap is read from the log first, then the event that revealed it")
    func gapIsFilled() {
        var delivery = Self.machine([Self.stream: 3])
        #expect(delivery.received(Self.message(7)) == [.read(Self.stream, after: 3, limit: 3)])
        // Nothing else goes out while the read is outstanding; what comes meanwhile waits its turn.
        #expect(delivery.received(Self.message(8)).isEmpty)
        let actions = delivery.read([Self.message(4), Self.message(5), Self.message(6)])
        #expect(Self.sent(actions) == [4, 5, 6, 7, 8])
        #expect(delivery.positions[Self.stream] == 8)
    }

    @Test("A gap longer than a page is read page by page")
    func gapInPages() {
        var delivery = Self.machine([Self.stream: 0], pageSize: 2)
        #expect(delivery.received(Self.message(6)) == [.read(Self.stream, after: 0, limit: 2)])
        let first = delivery.read([Self.message(1), Self.message(2)])
        #expect(Self.sent(first) == [1, 2])
        #expect(first.last == .read(Self.stream, after: 2, limit: 2))
        let second = delivery.read([Self.message(3), Self.message(4)])
        #expect(second.last == .read(Self.stream, after: 4, limit: 1))
        #expect(Self.sent(delivery.read([Self.message(5)])) == [5, 6])
    }

    @Test("Events the log no longer has become a resync, and delivery goes on")
    func prunedGapResyncs() {
        var delivery = Self.machine([Self.stream: 3])
        _ = delivery.received(Self.message(9))
        let actions = delivery.read([])
        #expect(actions.first == .resync(ResyncFrame(stream: Self.stream, reason: .expired, lastSeq: 8)))
        #expect(Self.sent(actions) == [9])
        // A log that kept only the end of the gap: resync up to what it lost, then the rest.
        var partial = Self.machine([Self.stream: 3])
        _ = partial.received(Self.message(9))
        let rest = partial.read([Self.message(6), Self.message(7), Self.message(8)])
        #expect(rest.first == .resync(ResyncFrame(stream: Self.stream, reason: .expired, lastSeq: 5)))
        #expect(Self.sent(rest) == [6, 7, 8, 9])
    }

    @Test("Live events wait for the start, then go out in order without duplicates")
    func heldUntilStart() {
        var delivery = Self.machine([Self.stream: 1], started: false)
        #expect(delivery.received(Self.message(2)).isEmpty)
        #expect(delivery.received(Self.message(3)).isEmpty)
        #expect(delivery.received(Self.message(2)).isEmpty)
        #expect(Self.sent(delivery.start()) == [2, 3])
        #expect(delivery.start().isEmpty)
    }

    @Test("Too many events held before the start close the connection as a slow consumer")
    func heldTooMany() {
        var delivery = Self.machine([Self.stream: 0], started: false, maxHeld: 2)
        _ = delivery.received(Self.message(1))
        _ = delivery.received(Self.message(2))
        #expect(delivery.received(Self.message(3)) == [.close(.slowConsumer)])
        #expect(delivery.received(Self.message(4)).isEmpty)
    }

    @Test("A resume replays from the cursor, confirms, then starts live delivery with what was held")
    func resumeReplays() {
        var delivery = Self.machine([Self.stream: 5, Self.mine: 2], started: false)
        _ = delivery.received(Self.message(6))
        let replay = delivery.resume(id: "r", cursors: [Self.stream: 2])
        #expect(replay == [.read(Self.stream, after: 2, limit: 3)])
        let actions = delivery.read([Self.message(3), Self.message(4), Self.message(5)])
        #expect(Self.sent(actions) == [3, 4, 5, 6])
        let resumedIndex = actions.firstIndex { if case .resumed = $0 { true } else { false } }
        #expect(resumedIndex == 3)
        #expect(actions[3] == .resumed(ResumedFrame(id: "r", streams: [Self.stream: 5, Self.mine: 2])))
    }

    @Test("Odd cursors get resync: unknown streams, cursors ahead, and late resumes")
    func resumeEdges() {
        let unknown = StreamID.conversation(UUID())
        var delivery = Self.machine([Self.stream: 5], started: false)
        let actions = delivery.resume(id: nil, cursors: [unknown: 1, Self.stream: 9])
        #expect(actions.contains(.resync(ResyncFrame(stream: unknown, reason: .unknown, lastSeq: nil))))
        #expect(actions.contains(.resync(ResyncFrame(stream: Self.stream, reason: .ahead, lastSeq: 5))))
        #expect(actions.last == .resumed(ResumedFrame(id: nil, streams: [Self.stream: 5])))
        // Live delivery has moved the stream on: a resume can no longer come before those events.
        _ = delivery.received(Self.message(6))
        let late = delivery.resume(id: "late", cursors: [Self.stream: 1])
        #expect(late.first == .resync(ResyncFrame(stream: Self.stream, reason: .late, lastSeq: 6)))
    }

    @Test("member.added for this user starts the stream there and reads what was routed before the follow")
    func joinLive() {
        var delivery = Self.machine([Self.mine: 0])
        #expect(delivery.received(Self.message(3)).isEmpty)  // not followed: not ours
        let actions = delivery.received(Self.added(4))
        #expect(actions == [.follow(Self.stream), .send(Self.added(4)), .read(Self.stream, after: 4, limit: 100)])
        #expect(Self.sent(delivery.read([Self.message(5)])) == [5])
        // Someone else's member.added on a stream this connection does not follow is not ours.
        var stranger = Self.machine([Self.mine: 0])
        #expect(stranger.received(Self.added(4, user: Self.other)).isEmpty)
    }

    @Test("member.removed for this user ends the stream, live or from the log")
    func removal() {
        var live = Self.machine([Self.stream: 3])
        #expect(live.received(Self.removed(4)) == [.send(Self.removed(4)), .unfollow(Self.stream)])
        #expect(live.received(Self.message(5)).isEmpty)

        // The same removal read in a gap: the rest of the page, and the event that revealed the gap, stay out.
        var filled = Self.machine([Self.stream: 3])
        _ = filled.received(Self.message(7))
        let actions = filled.read([Self.message(4), Self.removed(5), Self.message(6)])
        #expect(actions == [.send(Self.message(4)), .send(Self.removed(5)), .unfollow(Self.stream)])
        #expect(filled.positions[Self.stream] == nil)
        // Someone else's removal changes nothing.
        var other = Self.machine([Self.stream: 3])
        #expect(Self.sent(other.received(Self.removed(4, user: Self.other))) == [4])
        #expect(other.positions[Self.stream] == 4)
    }

    @Test("After a bus reconnect, positions are compared with the log and gaps filled, membership changes included")
    func refillAfterReconnect() {
        var delivery = Self.machine([Self.stream: 3, Self.mine: 1])
        #expect(delivery.busReconnected() == [.readPositions])
        let fill = delivery.positionsRead([Self.stream: 5, Self.mine: 1])
        #expect(fill == [.read(Self.stream, after: 3, limit: 2)])
        let actions = delivery.read([Self.removed(4), Self.message(5)])
        #expect(actions == [.send(Self.removed(4)), .unfollow(Self.stream)])
    }

    @Test("conversation.joined read from the user's stream follows the conversation from the event that added them")
    func joinThroughTheUserStream() {
        var delivery = Self.machine([Self.mine: 1])
        _ = delivery.busReconnected()
        #expect(delivery.positionsRead([Self.mine: 2, Self.stream: 9]) == [.read(Self.mine, after: 1, limit: 1)])
        let actions = delivery.read([Self.joined(2, at: 7)])
        #expect(actions == [.send(Self.joined(2, at: 7)), .follow(Self.stream), .read(Self.stream, after: 6, limit: 100)])
        #expect(Self.sent(delivery.read([Self.added(7), Self.message(8), Self.message(9)])) == [7, 8, 9])
    }

    @Test("A removal and a rejoin seen out of order: what happened in between stays out")
    func rejoin() {
        var delivery = Self.machine([Self.stream: 3, Self.mine: 1])
        // The user stream is ahead: the rejoin is known before the removal is delivered.
        _ = delivery.received(Self.joined(2, at: 7))
        let actions = delivery.received(Self.message(8))
        #expect(actions == [.read(Self.stream, after: 3, limit: 4)])
        let filled = delivery.read([Self.message(4), Self.removed(5), Self.message(6), Self.added(7)])
        #expect(Self.sent(filled) == [4, 5, 7, 8])
        #expect(!filled.contains(.unfollow(Self.stream)))
    }

    @Test("session.revoked for this connection's session closes it after delivering the event")
    func sessionRevoked() {
        var delivery = Self.machine([Self.mine: 0])
        let otherSession = Self.event(1, in: Self.mine, .sessionRevoked(SessionRevokedData(sessionID: UUID(), reason: .logout)))
        #expect(delivery.received(otherSession) == [.send(otherSession)])
        let mine = Self.event(2, in: Self.mine, .sessionRevoked(SessionRevokedData(sessionID: Self.session, reason: .logout)))
        #expect(delivery.received(mine) == [.send(mine), .close(.sessionRevoked)])
        #expect(delivery.received(Self.message(1, in: Self.mine)).isEmpty)
    }

    @Test("conversation.deleted ends the stream")
    func deletion() {
        var delivery = Self.machine([Self.stream: 1])
        let deleted = Self.event(2, in: Self.stream, .conversationDeleted(ConversationDeletedData(id: Self.group, deletedBy: Self.other)))
        #expect(delivery.received(deleted) == [.send(deleted), .unfollow(Self.stream)])
    }

    @Test("Streams are independent: events arriving interleaved across streams keep each stream's order")
    func acrossStreams() {
        let second = StreamID.conversation(UUID())
        var delivery = Self.machine([Self.stream: 0, second: 0])
        #expect(Self.sent(delivery.received(Self.message(1, in: second))) == [1])
        #expect(Self.sent(delivery.received(Self.message(1))) == [1])
        #expect(delivery.received(Self.message(3, in: second)) == [.read(second, after: 1, limit: 1)])
        #expect(delivery.received(Self.message(2)).isEmpty)  // waits behind the read
        let actions = delivery.read([Self.message(2, in: second)])
        #expect(actions.map { if case .send(let e) = $0 { "\(e.event.stream == second ? "b" : "a")\(e.event.seq)" } else { "?" } } == ["b2", "b3", "a2"])
    }
}
