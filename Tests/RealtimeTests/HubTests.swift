import Foundation
import Models
@testable import Realtime
import Synchronization
import Testing

/// The hub's routing, against connections whose outboxes record what they were given.
@Suite("Hub routing")
struct HubTests {
    static func connection(_ user: UUID, address: String? = nil) -> Connection {
        Connection(userID: user, sessionID: UUID(), address: address, tokenExpiry: .distantFuture, configuration: RealtimeConfiguration())
    }

    /// Everything queued for `connection` so far, drained.
    static func drain(_ connection: Connection) async -> [OutboxItem] {
        var items: [OutboxItem] = []
        while case .item(let item) = connection.outbox.take() { items.append(item) }
        return items
    }

    static func seqs(_ items: [OutboxItem]) -> [Int64] {
        items.compactMap { if case .event(let event) = $0 { event.event.seq } else { nil } }
    }

    @Test("Events reach the connections that follow their stream, and no others")
    func routesByStream() async throws {
        let hub = Hub()
        let group = StreamID.conversation(UUID())
        let (a, b) = (Self.connection(UUID()), Self.connection(UUID()))
        #expect(hub.register(a, limits: .init()) == nil && hub.register(b, limits: .init()) == nil)
        hub.follow(a, [group])
        hub.route(DeliveryMachineTests.message(1, in: group))
        #expect(Self.seqs(await Self.drain(a)) == [1])
        #expect(await Self.drain(b).isEmpty)
        hub.unfollow(a, [group])
        hub.route(DeliveryMachineTests.message(2, in: group))
        #expect(await Self.drain(a).isEmpty)
    }

    @Test("member.added also reaches the connections of the user it adds, who do not follow the stream yet")
    func memberAddedReachesTheNewMember() async throws {
        let hub = Hub()
        let newcomer = Self.connection(DeliveryMachineTests.me)
        let bystander = Self.connection(UUID())
        #expect(hub.register(newcomer, limits: .init()) == nil && hub.register(bystander, limits: .init()) == nil)
        hub.route(DeliveryMachineTests.added(4))
        #expect(Self.seqs(await Self.drain(newcomer)) == [4])
        #expect(await Self.drain(bystander).isEmpty)
        #expect(!hub.follows(newcomer, DeliveryMachineTests.stream))
    }

    @Test("Ephemeral frames wait for hello: none reaches a connection before it is greeted")
    func ephemeralFramesAfterHello() async throws {
        let hub = Hub()
        let user = UUID()
        let connection = Self.connection(user)
        #expect(hub.register(connection, limits: .init()) == nil)
        hub.route(frame: "presence", to: [user])
        #expect(await Self.drain(connection).isEmpty)
        connection.greet("hello")
        hub.route(frame: "presence", to: [user])
        let frames = await Self.drain(connection).compactMap { if case .frame(let text) = $0 { text } else { nil } }
        #expect(frames == ["hello", "presence"])
    }

    @Test("Connections past the per-user or per-address limit are refused with 4010; a closed one frees its place")
    func connectionLimits() {
        let hub = Hub()
        var limits = RealtimeConfiguration()
        limits.maxConnectionsPerUser = 2
        limits.maxConnectionsPerAddress = 3
        let user = UUID()
        let (first, second) = (Self.connection(user, address: "a"), Self.connection(user, address: "a"))
        #expect(hub.register(first, limits: limits) == nil && hub.register(second, limits: limits) == nil)
        #expect(hub.register(Self.connection(user, address: "b"), limits: limits) == .tooManyConnections)
        #expect(hub.register(Self.connection(UUID(), address: "a"), limits: limits) == nil)
        #expect(hub.register(Self.connection(UUID(), address: "a"), limits: limits) == .tooManyConnections)
        hub.remove(first)
        hub.remove(first)  // twice changes nothing
        #expect(hub.register(Self.connection(user, address: "a"), limits: limits) == nil)
        #expect(hub.register(Self.connection(UUID(), address: "a"), limits: limits) == .tooManyConnections)
    }

    @Test("Closing the hub terminates every connection and refuses new ones")
    func closeAll() async throws {
        let hub = Hub()
        let connection = Self.connection(UUID())
        #expect(hub.register(connection, limits: .init()) == nil)
        hub.closeAll(.goingAway)
        #expect(connection.outbox.termination == .close(.goingAway))
        #expect(hub.register(Self.connection(UUID()), limits: .init()) == .goingAway)
    }
}

@Suite("Outbox")
struct OutboxTests {
    @Test("Items come out in order; a reader that found it empty is woken once by the next push")
    func order() {
        let wakes = Mutex(0)
        let outbox = Outbox(maxItems: 10, maxBytes: 1000, wake: { wakes.withLock { $0 += 1 } })
        guard case .empty = outbox.take() else {
            Issue.record("not empty")
            return
        }
        #expect(outbox.push(.frame("a")))
        #expect(outbox.push(.frame("b")))
        #expect(wakes.withLock { $0 } == 1)
        guard case .item(.frame("a")) = outbox.take(), case .item(.frame("b")) = outbox.take(), case .empty = outbox.take() else {
            Issue.record("wrong order")
            return
        }
        // Not woken while the reader has not found it empty again.
        #expect(outbox.push(.frame("c")))
        #expect(outbox.push(.frame("d")))
        #expect(wakes.withLock { $0 } == 2)
    }

    @Test("Past its item or byte limit the outbox refuses")
    func limits() {
        let byItems = Outbox(maxItems: 2, maxBytes: 1000)
        #expect(byItems.push(.frame("a")) && byItems.push(.frame("b")))
        #expect(!byItems.push(.frame("c")))
        let byBytes = Outbox(maxItems: 10, maxBytes: 5)
        #expect(byBytes.push(.frame("abc")))
        #expect(!byBytes.push(.frame("def")))
    }

    @Test("Termination drops what is queued, wakes the reader, and the first reason wins")
    func termination() {
        let wakes = Mutex(0)
        let outbox = Outbox(maxItems: 10, maxBytes: 1000, wake: { wakes.withLock { $0 += 1 } })
        _ = outbox.push(.frame("a"))
        outbox.terminate(.close(.slowConsumer))
        outbox.terminate(.ended)
        #expect(outbox.termination == .close(.slowConsumer))
        #expect(wakes.withLock { $0 } == 1)
        guard case .terminated(.close(.slowConsumer)) = outbox.take() else {
            Issue.record("not terminated")
            return
        }
        #expect(outbox.push(.frame("b")))  // accepted and dropped: nobody writes to a closed connection
        #expect(outbox.queued == 0)
    }
}
