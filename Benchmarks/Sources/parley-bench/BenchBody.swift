/// The body of every message a scenario sends, "bench EPOCH INDEX SENT": the step it belongs to,
/// its index within the step, and the monotonic time it was due to be sent, in nanoseconds. The
/// receiver reads it straight from the frame's bytes, without decoding the JSON.
enum BenchBody {
    static func make(epoch: Int, index: Int, sentAt: UInt64) -> String {
        "bench \(epoch) \(index) \(sentAt)"
    }

    private static let createdMarker = Array(#""type":"message.created""#.utf8)
    private static let bodyMarker = Array(#""body":"bench "#.utf8)

    /// The numbers of a bench body in the text of a `message.created` frame, or nil for any other frame.
    static func parse(_ frame: UnsafeRawBufferPointer) -> (epoch: Int, index: Int, sentAt: UInt64)? {
        guard contains(frame, createdMarker), let start = find(frame, bodyMarker) else { return nil }
        var position = start + bodyMarker.count
        func number() -> UInt64? {
            var value: UInt64 = 0
            var digits = 0
            while position < frame.count, case let byte = frame[position], byte >= 48, byte <= 57 {
                value = value &* 10 &+ UInt64(byte - 48)
                digits += 1
                position += 1
            }
            if position < frame.count, frame[position] == 32 { position += 1 }
            return digits > 0 ? value : nil
        }
        guard let epoch = number(), let index = number(), let sentAt = number() else { return nil }
        return (Int(epoch), Int(index), sentAt)
    }

    static func contains(_ frame: UnsafeRawBufferPointer, _ marker: [UInt8]) -> Bool {
        find(frame, marker) != nil
    }

    private static func find(_ frame: UnsafeRawBufferPointer, _ marker: [UInt8]) -> Int? {
        guard frame.count >= marker.count, let first = marker.first else { return nil }
        var start = 0
        while start <= frame.count - marker.count {
            if frame[start] == first {
                var matched = 1
                while matched < marker.count, frame[start + matched] == marker[matched] { matched += 1 }
                if matched == marker.count { return start }
            }
            start += 1
        }
        return nil
    }
}
