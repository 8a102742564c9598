package import Foundation
package import Models
import SQLKit

extension Store {
    /// Full-text search over the messages of the conversations `viewer` is a member of now (or of
    /// one of them): stemmed and ranked — `tsvector`/GIN on PostgreSQL, FTS5 with the Porter stemmer
    /// on SQLite — best match first. Deleted messages are never found; edits are found by their new text.
    package func searchMessages(
        _ query: String,
        viewer: UUID,
        in conversationID: UUID?,
        limit: Int,
        cursor: String?
    ) async throws -> Page<SearchHit> {
        let after = try Cursor(decoding: cursor, count: 2)
        let keyset = try after.map { try (rank: $0.int64(0), id: $0.uuid(1)) }
        let links = media
        return try await database.read { sql in
            if let conversationID { _ = try await sql.authorize(viewer, in: conversationID) }
            let scope = SQLQueryString(
                "m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = \(bind: viewer))"
            ) + (conversationID.map { " AND m.conversation_id = \(bind: $0)" } ?? "")
            let matches: SQLQueryString
            switch database.kind {
            case .postgres:
                matches = """
                    SELECT \(unsafeRaw: Message.columns(table: "m")),
                           CAST(ts_rank(m.search, q.query) * 1000000 AS bigint) AS match_rank,
                           ts_headline('english', m.body, q.query, \(bind: Self.headlineOptions)) AS snippet
                    FROM messages m, websearch_to_tsquery('english', \(bind: query)) AS q (query)
                    WHERE m.search @@ q.query AND \(scope)
                    """
            case .sqlite:
                guard let match = Self.fts5Query(query) else { return Page(items: [], nextCursor: nil) }
                matches = """
                    SELECT \(unsafeRaw: Message.columns(table: "m")),
                           CAST(-bm25(messages_fts) * 1000000 AS INTEGER) AS match_rank,
                           snippet(messages_fts, 0, char(57344), char(57345), '…', 24) AS snippet
                    FROM messages_fts JOIN messages m ON m.row_id = messages_fts.rowid
                    WHERE messages_fts MATCH \(bind: match) AND \(scope)
                    """
            }
            var statement = "SELECT * FROM (" + matches + ") hits"
            if let keyset {
                statement = statement + " WHERE match_rank < \(bind: keyset.rank) OR (match_rank = \(bind: keyset.rank) AND id < \(bind: keyset.id))"
            }
            statement = statement + " ORDER BY match_rank DESC, id DESC LIMIT \(bind: limit + 1)"
            let rows = try await sql.raw(statement).all()
            var hits = try rows.prefix(limit).map { row in
                SearchHit(message: try Message(row: row), markedSnippet: try row.decode(column: "snippet", as: String?.self) ?? "")
            }
            let messages = try await sql.completed(hits.map(\.message), for: viewer, links: links)
            for index in hits.indices { hits[index].message = messages[index] }
            let next =
                rows.count > limit
                ? Cursor(String(try rows[limit - 1].decode(column: "match_rank", as: Int64.self)), hits[limit - 1].message.id.uuidString).encoded
                : nil
            return Page(items: hits, nextCursor: next)
        }
    }

    /// `ts_headline` options: one fragment of about 24 words, matches between the highlight marks.
    static let headlineOptions =
        "StartSel=\(SearchHit.highlightStart), StopSel=\(SearchHit.highlightEnd), MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=\" … \""

    /// The words of `query` as an FTS5 query that matches messages containing all of them; user
    /// input never reaches FTS5's own query syntax.
    static func fts5Query(_ query: String) -> String? {
        let words = query.split { !$0.isLetter && !$0.isNumber }
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"" }.joined(separator: " ")
    }
}
