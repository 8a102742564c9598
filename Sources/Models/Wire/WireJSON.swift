package import Foundation

/// The one JSON form of everything Parley puts on the wire — REST bodies, event data in the log,
/// realtime frames and bus messages: keys sorted, slashes unescaped, RFC 3339 dates in whole
/// seconds (UTC), ids as lower-case UUIDs.
///
/// The OpenAPI runtime builds its own coders from `outputFormatting` and the API's date transcoder,
/// which writes the same dates (`RFC3339`); everything else encodes and decodes here.
package enum WireJSON {
    /// The output options of every encoder, the OpenAPI runtime's included.
    package static let outputFormatting: JSONEncoder.OutputFormatting = [.sortedKeys, .withoutEscapingSlashes]

    /// The shared encoder.
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = outputFormatting
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }()

    /// The shared decoder.
    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// `value` as JSON bytes.
    package static func encode(_ value: some Encodable) throws -> Data {
        try encoder.encode(value)
    }

    /// `value` as JSON text.
    package static func text(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A `T` read from JSON bytes.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder.decode(type, from: data)
    }
}

// Foundation writes a UUID in upper case; the wire wants the canonical lower case. These overloads
// are more specific than the generic `encode`, so the Codable conformances synthesized in this module
// pick them for every `UUID`, `UUID?` and `[UUID]` property. `WireJSONTests` holds them to it.
extension KeyedEncodingContainer {
    mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.lowercased, forKey: key)
    }

    mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        try encodeIfPresent(value?.lowercased, forKey: key)
    }

    mutating func encode(_ value: [UUID], forKey key: Key) throws {
        try encode(value.map(\.lowercased), forKey: key)
    }
}
