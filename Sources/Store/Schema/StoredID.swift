import Foundation
import Models
import PostgresNIO
import SQLKit
import SQLiteNIO

/// An id as each database keeps it: on SQLite upper-case text, written and parsed by `Models`'
/// `UUID` text code rather than by SQLiteKit's Codable path through Foundation's `uuidString` and
/// `UUID(uuidString:)` (`snprintf` and `sscanf`, 9% of a history page's CPU time); on PostgreSQL
/// its 16 bytes, as before.
///
/// Ids go in through the `bind:`/`binds:` overloads below and come out through `decodeUUID`; both
/// are picked for every `UUID` without the call sites naming this type.
private struct StoredID: Codable, Sendable, SQLiteDataConvertible, PostgresNonThrowingEncodable, PostgresDecodable {
    let value: UUID

    init(_ value: UUID) {
        self.value = value
    }

    init?(sqliteData: SQLiteData) {
        guard case .text(let text) = sqliteData, let value = UUID(text: text) else { return nil }
        self.value = value
    }

    var sqliteData: SQLiteData? { .text(value.upperCased) }

    static var psqlType: PostgresDataType { UUID.psqlType }
    static var psqlFormat: PostgresFormat { UUID.psqlFormat }

    func encode(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<some PostgresJSONEncoder>) {
        value.encode(into: &byteBuffer, context: context)
    }

    init(
        from buffer: inout ByteBuffer,
        type: PostgresDataType,
        format: PostgresFormat,
        context: PostgresDecodingContext<some PostgresJSONDecoder>
    ) throws {
        value = try UUID(from: &buffer, type: type, format: format, context: context)
    }

    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(UUID.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

extension SQLQueryString {
    /// Binds an id; more specific than SQLKit's `bind:` for any `Encodable`, so every `UUID` takes it.
    mutating func appendInterpolation(bind value: UUID) {
        appendInterpolation(bind: StoredID(value))
    }

    /// Binds a list of ids, for `IN (…)`.
    mutating func appendInterpolation(binds values: [UUID]) {
        appendInterpolation(binds: values.map(StoredID.init))
    }
}

extension SQLRow {
    /// An id column.
    func decodeUUID(column: String) throws -> UUID {
        try decode(column: column, as: StoredID.self).value
    }

    /// An id column that may be NULL.
    func decodeOptionalUUID(column: String) throws -> UUID? {
        try decodeNil(column: column) ? nil : decodeUUID(column: column)
    }
}
