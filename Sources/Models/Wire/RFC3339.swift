package import Foundation

/// Dates as Parley writes them: RFC 3339 in whole seconds, UTC (`2026-12-07T13:35:00Z`) — the same
/// text as Foundation's ISO 8601 formatting, built from the digits directly, which costs a small
/// fraction of the formatter's time (every message, user and event carries dates).
package enum RFC3339 {
    /// `date`, rounded down to the second.
    package static func string(from date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil, (0...9999).contains(Int(parts.tm_year) + 1900) else {
            return date.formatted(.iso8601)
        }
        var bytes = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int32, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(parts.tm_year + 1900, at: 0, digits: 4)
        put(parts.tm_mon + 1, at: 5, digits: 2)
        put(parts.tm_mday, at: 8, digits: 2)
        put(parts.tm_hour, at: 11, digits: 2)
        put(parts.tm_min, at: 14, digits: 2)
        put(parts.tm_sec, at: 17, digits: 2)
        for (offset, separator) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "Z")] {
            bytes[offset] = separator.utf8.first!
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
