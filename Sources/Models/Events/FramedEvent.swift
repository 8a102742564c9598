package import Foundation

/// An event with its JSON — `{data, seq, stream, ts, type}`, exactly as `WireJSON` writes an
/// `Event` — encoded once: what the bus carries between nodes and every connection writes as is.
package struct FramedEvent: Sendable, Equatable {
    package let event: Event
    package let text: String

    /// Encodes `event`.
    package init(_ event: Event) throws {
        try self.init(event, dataJSON: String(decoding: event.payload.json(), as: UTF8.self))
    }

    /// Frames `event` around the JSON of its data, already encoded (as the log stores it).
    package init(_ event: Event, dataJSON: String) {
        self.event = event
        self.text = #"{"data":"# + dataJSON + #","seq":\#(event.seq),"stream":"\#(event.stream.rawValue)","ts":"\#(RFC3339.string(from: event.ts))","type":"\#(event.type.rawValue)"}"#
    }

    /// Reads an event's JSON, keeping the text.
    package init(json: String) throws {
        self.event = try WireJSON.decode(Event.self, from: Data(json.utf8))
        self.text = json
    }

    package static func == (lhs: FramedEvent, rhs: FramedEvent) -> Bool { lhs.event == rhs.event }
}
