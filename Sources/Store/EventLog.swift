import Foundation
import Models
import SQLKit

extension Transaction {
    /// Appends an event with `payload` as its data to `stream`, at the stream's next sequence number.
    ///
    /// Numbers have no gaps: the counter row is locked until the transaction ends, and a rollback
    /// takes back both the number and the event.
    @discardableResult
    public func append(to stream: StreamID, _ type: EventType, _ payload: some Encodable, at now: Date) async throws -> Event {
        try await append(to: stream, type, at: now) { _ in payload }
    }

    /// Appends an event whose data depends on its own sequence number, such as a message's.
    ///
    /// `alongside` gives statements (INSERT, UPDATE or DELETE) to run with the event's insert: on
    /// PostgreSQL in the same statement, so that the stream's counter, locked from here until the
    /// transaction ends, is held for as few round trips as possible.
    @discardableResult
    public func append<Payload: Encodable>(
        to stream: StreamID,
        _ type: EventType,
        at now: Date,
        alongside: (Int64) -> [SQLQueryString] = { _ in [] },
        payload: (Int64) throws -> Payload
    ) async throws -> Event {
        let seq = try await sql.raw(
            """
            INSERT INTO event_streams (stream, last_seq) VALUES (\(bind: stream.rawValue), 1)
            ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq + 1
            RETURNING last_seq
            """
        ).first().map { try $0.decode(column: "last_seq", as: Int64.self) }
        guard let seq else { throw StoreError.noRowReturned("event_streams") }
        let data = try EventCoding.encoder.encode(payload(seq))
        let event = Event(stream: stream, seq: seq, type: type, data: data, ts: now)
        let insert = SQLQueryString(
            """
            INSERT INTO events (stream, seq, type, data, ts)
            VALUES (\(bind: stream.rawValue), \(bind: seq), \(bind: type.rawValue), \(bind: String(decoding: data, as: UTF8.self)), \(bind: now))
            """
        )
        let statements = alongside(seq)
        switch publication {
        case .notify(let channel):
            // One round trip for all: the insert, the statements alongside, and the NOTIFY that
            // PostgreSQL sends at commit.
            var query = "WITH inserted AS (" + insert + " RETURNING seq)"
            for (index, statement) in statements.enumerated() {
                query = query + ", alongside\(unsafeRaw: String(index)) AS (" + statement + ")"
            }
            try await sql.raw(query + " SELECT pg_notify(\(bind: channel), \(bind: BusWire.encode(event))) FROM inserted").run()
        case .collect(let collector):
            try await sql.raw(insert).run()
            for statement in statements { try await sql.raw(statement).run() }
            collector.add(event)
        }
        return event
    }
}

extension Store {
    /// The events of `stream` after `seq`, oldest first, at most `limit`.
    public func events(in stream: StreamID, after seq: Int64, limit: Int) async throws -> [Event] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT stream, seq, type, data, ts FROM events
                WHERE stream = \(bind: stream.rawValue) AND seq > \(bind: seq)
                ORDER BY seq LIMIT \(bind: limit)
                """
            ).all().map(Event.init(row:))
        }
    }

    /// The last sequence number of `stream`; 0 when nothing was written to it.
    public func lastSeq(of stream: StreamID) async throws -> Int64 {
        try await database.read { sql in
            try await sql.raw("SELECT last_seq FROM event_streams WHERE stream = \(bind: stream.rawValue)")
                .first()?.decode(column: "last_seq", as: Int64.self) ?? 0
        }
    }
}

extension Event {
    init(row: any SQLRow) throws {
        self.init(
            stream: StreamID(rawValue: try row.decode(column: "stream", as: String.self)),
            seq: try row.decode(column: "seq", as: Int64.self),
            type: EventType(rawValue: try row.decode(column: "type", as: String.self)),
            data: Data(try row.decode(column: "data", as: String.self).utf8),
            ts: try row.decode(column: "ts", as: Date.self)
        )
    }
}
