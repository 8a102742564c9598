import Foundation
import Models
@testable import Bus
import Testing

@Suite("Bus wire format")
struct BusWireTests {
    static let event = Event(
        stream: .conversation(UUID()),
        seq: 42,
        ts: Date(timeIntervalSince1970: 1_800_000_000),
        payload: .memberRemoved(MemberRemovedData(conversationID: UUID(), userID: UUID(), removedBy: UUID(), reason: .left))
    )

    @Test("An event travels as its own JSON and comes back typed, with the same text")
    func eventRoundTrip() throws {
        let framed = try FramedEvent(Self.event)
        #expect(framed.text == (try WireJSON.text(Self.event)))
        let payload = BusWire.encode(framed)
        #expect(payload == "e|" + framed.text)
        guard case .event(let received)? = BusWire.decode(payload) else {
            Issue.record("not an event")
            return
        }
        #expect(received.event == Self.event && received.text == framed.text)
    }

    @Test("An event too large for NOTIFY travels as a reference to the log")
    func largeEventIsAReference() throws {
        let message = Message(
            id: UUID(), conversationID: UUID(), seq: 7, senderID: UUID(), body: String(repeating: "é", count: 4000),
            clientMessageID: "c", replyToID: nil, createdAt: Date(), editedAt: nil, isDeleted: false
        )
        let large = Event(stream: .conversation(message.conversationID), seq: 7, ts: Date(), payload: .messageCreated(message))
        let payload = BusWire.encode(try FramedEvent(large))
        #expect(payload == "r|\(large.stream.rawValue)|7")
        #expect(BusWire.decode(payload) == .reference(large.stream, 7))
    }

    @Test("Signals travel as the frames that announce them")
    func signals() throws {
        let typing = Signal.typing(conversationID: UUID(), userID: UUID())
        let presence = Signal.presence(userID: UUID(), status: .away, lastSeenAt: Date(timeIntervalSince1970: 1_800_000_000))
        for signal in [typing, presence] {
            let payload = try BusWire.encode(signal)
            #expect(payload.hasPrefix("s|{"))
            #expect(BusWire.decode(payload) == .signal(signal))
        }
    }

    @Test("Payloads this build cannot read are refused, not guessed at", arguments: [
        "", "x|1", "e|not json", #"e|{"stream":"s","seq":1,"type":"no.such.type","data":{},"ts":"2026-01-01T00:00:00Z"}"#,
        "r|stream", "r|stream|x", "s|{}",
    ])
    func junk(payload: String) {
        #expect(BusWire.decode(payload) == nil)
    }

    @Test("An in-process bus hands committed events and signals to every subscriber, in order")
    func inProcessDelivery() async throws {
        let bus = EventBus.inProcess()
        var first = bus.subscribe().makeAsyncIterator()
        var second = bus.subscribe().makeAsyncIterator()
        #expect(try bus.notification(for: FramedEvent(Self.event)) == nil)
        bus.committed([try FramedEvent(Self.event)])
        try await bus.publish(.typing(conversationID: UUID(), userID: UUID()))
        for index in 0..<2 {
            guard case .event(let framed, let committedAt)? = index == 0 ? await first.next() : await second.next() else {
                Issue.record("expected the event first")
                continue
            }
            #expect(framed.event == Self.event)
            #expect(committedAt != nil)
        }
        guard case .signal? = await first.next() else {
            Issue.record("expected the signal second")
            return
        }
    }
}
