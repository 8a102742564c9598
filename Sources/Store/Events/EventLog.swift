import Bus
import Foundation
package import Models
import SQLKit

extension Transaction {
    /// Appends an event to `stream`, at the stream's next sequence number.
    ///
    /// Numbers have no gaps: the counter row is locked until the transaction ends, and a rollback
    /// takes back both the number and the event.
    @discardableResult
    func append(to stream: StreamID, _ payload: EventPayload, at now: Date) async throws -> Event {
        try await append(to: stream, at: now) { _ in payload }
    }

    /// Appends an event whose payload depends on its own sequence number, such as a message's.
    ///
    /// `alongside` gives statements (INSERT, UPDATE or DELETE) to run with the event's insert, given
    /// the SQL for the event's seq. On PostgreSQL the counter's increment, the event's insert, the
    /// statements alongside and the NOTIFY that publishes the event at commit are one statement, so
    /// the stream's counter, locked from there until the transaction ends, is held for two round
    /// trips: that statement and the commit.
    @discardableResult
    func append(
        to stream: StreamID,
        at now: Date,
        alongside: (SQLQueryString) -> [SQLQueryString] = { _ in [] },
        payload: (Int64) throws -> EventPayload
    ) async throws -> Event {
        if kind == .postgres { return try await appendInOneStatement(to: stream, at: now, alongside: alongside, payload: payload) }
        let seq = try await sql.raw(
            """
            INSERT INTO event_streams (stream, last_seq) VALUES (\(bind: stream.rawValue), 1)
            ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq + 1
            RETURNING last_seq
            """
        ).first().map { try $0.decode(column: "last_seq", as: Int64.self) }
        guard let seq else { throw StoreError.noRowReturned("event_streams") }
        let event = try Self.framed(stream, seq: seq, at: now, payload: payload)
        try await sql.raw(
            """
            INSERT INTO events (stream, seq, type, data, ts, message_id)
            VALUES (\(bind: stream.rawValue), \(bind: seq), \(bind: event.event.type.rawValue), \(bind: event.data), \(bind: now),
                    \(bind: event.event.payload.messageID))
            """
        ).run()
        for statement in alongside("\(bind: seq)") { try await sql.raw(statement).run() }
        appended(event.framed)
        return event.event
    }

    /// The seq an event's JSON carries until the statement that numbers it replaces it. The text
    /// `"seq":9007199254740993` can only be a `seq` key with that value (inside a JSON string every
    /// quote is escaped), so the replacement touches nothing else.
    private static let unnumbered: Int64 = 9_007_199_254_740_993
    private static let placeholder = #""seq":"# + String(unnumbered)

    private func appendInOneStatement(
        to stream: StreamID,
        at now: Date,
        alongside: (SQLQueryString) -> [SQLQueryString],
        payload: (Int64) throws -> EventPayload
    ) async throws -> Event {
        let draft = try Self.framed(stream, seq: Self.unnumbered, at: now, payload: payload)
        let numbered = { (text: String) -> SQLQueryString in
            "replace(\(bind: text), \(bind: Self.placeholder), '\"seq\":' || next.last_seq)"
        }
        var query: SQLQueryString = """
            WITH next AS (
              INSERT INTO event_streams (stream, last_seq) VALUES (\(bind: stream.rawValue), 1)
              ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq + 1
              RETURNING last_seq
            ), inserted AS (
              INSERT INTO events (stream, seq, type, data, ts, message_id)
              SELECT \(bind: stream.rawValue), next.last_seq, \(bind: draft.event.type.rawValue),
            """ + numbered(draft.data) + """
            , \(bind: now), \(bind: draft.event.payload.messageID) FROM next
              RETURNING seq
            )
            """
        for (index, statement) in alongside("(SELECT last_seq FROM next)").enumerated() {
            query = query + ", alongside\(unsafeRaw: String(index)) AS (" + statement + ")"
        }
        query = query + " SELECT next.last_seq"
        if let notification = try bus.notification(for: draft.framed) {
            // Published at commit. A large event travels as a reference to the log, `r|stream|seq`.
            let published: SQLQueryString =
                notification.payload.hasPrefix("r|")
                ? "\(bind: "r|\(stream.rawValue)|") || next.last_seq" : numbered(notification.payload)
            query = query + ", pg_notify(\(bind: notification.channel), " + published + ")"
        }
        let row = try await sql.raw(query + " FROM next JOIN inserted ON inserted.seq = next.last_seq").first()
        guard let seq = try row?.decode(column: "last_seq", as: Int64.self) else { throw StoreError.noRowReturned("event_streams") }
        // Numbered as the statement numbered the stored copy, rather than encoded a second time.
        let event = Event(stream: stream, seq: seq, ts: now, payload: try payload(seq))
        appended(FramedEvent(event, dataJSON: draft.data.replacing(Self.placeholder, with: #""seq":"# + String(seq))))
        return event
    }

    /// An event, its payload's JSON, and its frame.
    private static func framed(
        _ stream: StreamID,
        seq: Int64,
        at now: Date,
        payload: (Int64) throws -> EventPayload
    ) throws -> (event: Event, data: String, framed: FramedEvent) {
        let event = Event(stream: stream, seq: seq, ts: now, payload: try payload(seq))
        let data = String(decoding: try event.payload.json(), as: UTF8.self)
        return (event, data, FramedEvent(event, dataJSON: data))
    }
}

extension Transaction {
    /// Rewrites the events that carry a message's text — its `message.created` and every
    /// `message.updated` — to show it as it is now: the current text after an edit, none after a
    /// deletion. Their seqs stay, so resuming stays exactly-once; only what they say changes.
    func rewriteEvents(of message: Message) async throws {
        let stream = StreamID.conversation(message.conversationID)
        var created = message
        created.reactions = []
        try await sql.raw(
            """
            UPDATE events SET data = \(bind: try WireJSON.text(created))
            WHERE stream = \(bind: stream.rawValue) AND seq = \(bind: message.seq)
            """
        ).run()
        let edits = try await sql.raw(
            """
            SELECT seq, data FROM events
            WHERE message_id = \(bind: message.id) AND type = \(bind: EventType.messageUpdated.rawValue) AND stream = \(bind: stream.rawValue)
            """
        ).all()
        for row in edits {
            var edit = try WireJSON.decode(MessageUpdatedData.self, from: Data(try row.decode(column: "data", as: String.self).utf8))
            edit.body = message.body
            edit.mentions = message.mentions
            edit.mentionsAll = message.mentionsAll
            try await sql.raw(
                """
                UPDATE events SET data = \(bind: try WireJSON.text(edit))
                WHERE stream = \(bind: stream.rawValue) AND seq = \(bind: try row.decode(column: "seq", as: Int64.self))
                """
            ).run()
        }
    }

    /// Deletes a whole stream from the log, as when its conversation is deleted.
    func deleteStream(_ stream: StreamID) async throws {
        try await sql.raw("DELETE FROM events WHERE stream = \(bind: stream.rawValue)").run()
        try await sql.raw("DELETE FROM event_streams WHERE stream = \(bind: stream.rawValue)").run()
    }
}

extension Store {
    /// The events of `stream` after `seq`, oldest first, at most `limit`.
    package func events(in stream: StreamID, after seq: Int64, limit: Int) async throws -> [Event] {
        try await framedEvents(in: stream, after: seq, limit: limit).map(\.event)
    }

    /// The events of `stream` after `seq` with their JSON, oldest first, at most `limit`.
    package func framedEvents(in stream: StreamID, after seq: Int64, limit: Int) async throws -> [FramedEvent] {
        try await read { try await $0.events(in: stream, after: seq, limit: limit) }
    }

    /// The event of `stream` at `seq` with its JSON, if the log still has it.
    package func framedEvent(in stream: StreamID, at seq: Int64) async throws -> FramedEvent? {
        try await framedEvents(in: stream, after: seq - 1, limit: 1).first { $0.event.seq == seq }
    }

    /// The last sequence number of `stream`; 0 when nothing was written to it.
    package func lastSeq(of stream: StreamID) async throws -> Int64 {
        try await read { try await $0.lastSeq(of: stream) }
    }
}

extension SQLDatabase {
    func events(in stream: StreamID, after seq: Int64, limit: Int) async throws -> [FramedEvent] {
        try await raw(
            """
            SELECT stream, seq, type, data, ts FROM events
            WHERE stream = \(bind: stream.rawValue) AND seq > \(bind: seq)
            ORDER BY seq LIMIT \(bind: limit)
            """
        ).all().map(FramedEvent.init(row:))
    }

    func lastSeq(of stream: StreamID) async throws -> Int64 {
        try await raw("SELECT last_seq FROM event_streams WHERE stream = \(bind: stream.rawValue)")
            .first()?.decode(column: "last_seq", as: Int64.self) ?? 0
    }
}

extension FramedEvent {
    /// An `events` row, framed around the JSON of its data as stored.
    init(row: any SQLRow) throws {
        let data = try row.decode(column: "data", as: String.self)
        let event = Event(
            stream: StreamID(rawValue: try row.decode(column: "stream", as: String.self)),
            seq: try row.decode(column: "seq", as: Int64.self),
            ts: try row.decode(column: "ts", as: Date.self),
            payload: try EventPayload(type: EventType(rawValue: try row.decode(column: "type", as: String.self)), json: Data(data.utf8))
        )
        self.init(event, dataJSON: data)
    }
}
