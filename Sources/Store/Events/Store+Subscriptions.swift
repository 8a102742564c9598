package import Foundation
package import Models
import SQLKit

extension Store {
    /// The streams a user's realtime connection follows — their own and each of their conversations' —
    /// with the last seq of each (0 for a stream nothing was written to yet).
    ///
    /// One query, however many conversations the user is in: no list of streams is bound.
    package func streamPositions(of userID: UUID) async throws -> [StreamID: Int64] {
        try await read { sql in
            let userStream = StreamID.user(userID)
            let rows = try await sql.raw(
                """
                SELECT c.stream AS stream, COALESCE(es.last_seq, 0) AS last_seq
                FROM members m JOIN conversations c ON c.id = m.conversation_id
                LEFT JOIN event_streams es ON es.stream = c.stream
                WHERE m.user_id = \(bind: userID)
                UNION ALL
                SELECT \(bind: userStream.rawValue) AS stream,
                       COALESCE((SELECT last_seq FROM event_streams WHERE stream = \(bind: userStream.rawValue)), 0) AS last_seq
                """
            ).all()
            var positions: [StreamID: Int64] = [:]
            for row in rows {
                positions[StreamID(rawValue: try row.decode(column: "stream", as: String.self))] =
                    try row.decode(column: "last_seq", as: Int64.self)
            }
            return positions
        }
    }

    /// Deletes logged events older than `cutoff`, in batches; clients behind that point must resync.
    @discardableResult
    package func pruneEvents(olderThan cutoff: Date) async throws -> Int {
        try await pruneInBatches(table: "events", key: "stream, seq", where: "ts < \(bind: cutoff)")
    }
}
