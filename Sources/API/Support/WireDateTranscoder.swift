import Foundation
import Models
import OpenAPIRuntime

/// Dates as the API writes and reads them: RFC 3339, written in whole seconds (as `WireJSON`
/// does), read with or without fractional seconds — what JavaScript's `Date#toISOString()` sends.
struct WireDateTranscoder: DateTranscoder {
    private let whole = ISO8601DateTranscoder()
    private let fractional = ISO8601DateTranscoder(options: [.withInternetDateTime, .withFractionalSeconds])

    func encode(_ date: Date) throws -> String {
        RFC3339.string(from: date)
    }

    func decode(_ text: String) throws -> Date {
        if let date = try? whole.decode(text) { return date }
        return try fractional.decode(text)
    }
}
