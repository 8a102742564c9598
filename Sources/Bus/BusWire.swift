import Foundation
import Models

/// The text of bus messages in PostgreSQL NOTIFY payloads, which are limited to 8,000 bytes:
/// `e|` and the event's JSON (as clients receive it); `r|stream|seq` for an event too large to
/// carry, which listeners read back from the log; `s|` and a signal's JSON (its frame).
enum BusWire {
    static let maxPayload = 7_900

    /// What a NOTIFY payload stands for.
    enum Message: Equatable {
        case event(FramedEvent)
        case reference(StreamID, Int64)
        case signal(Signal)
    }

    static func encode(_ event: FramedEvent) -> String {
        let payload = "e|" + event.text
        return payload.utf8.count <= maxPayload ? payload : "r|\(event.event.stream.rawValue)|\(event.event.seq)"
    }

    static func encode(_ signal: Signal) throws -> String {
        "s|" + (try WireJSON.text(signal))
    }

    /// The message a payload stands for; nil when it is not one this build can read.
    static func decode(_ payload: String) -> Message? {
        let body = Data(payload.utf8.dropFirst(2))
        switch payload.prefix(2) {
        case "e|":
            return (try? FramedEvent(json: String(payload.dropFirst(2)))).map(Message.event)
        case "s|":
            return (try? WireJSON.decode(Signal.self, from: body)).map(Message.signal)
        case "r|":
            let parts = payload.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 3, let seq = Int64(parts[2]) else { return nil }
            return .reference(StreamID(rawValue: String(parts[1])), seq)
        default:
            return nil
        }
    }
}
