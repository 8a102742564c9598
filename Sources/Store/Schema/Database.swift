package import Foundation
import Models
package import SQLKit

/// The SQL dialect behind a `Database`, for the few statements that differ between them.
package enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// Where the Store's queries run: reads on any connection, writes in one transaction each, and
/// whether the database answers. It knows nothing of what the queries mean.
///
/// Two implementations exist, `SQLiteDatabase` and `PostgresDatabase`; everything above this seam
/// is the same code for both.
package protocol Database: Sendable {
    /// The dialect, for the statements that differ.
    var kind: DatabaseKind { get }

    /// Runs reads outside any transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    ///
    /// Writes of this process that wait at the same time may share a transaction, and one that
    /// throws still fails alone (see `WriteBatches`): on SQLite every write that waits for the
    /// writer, on PostgreSQL the writes with the same `batch`, such as the sends into one
    /// conversation (nil: a transaction of its own). So `body` may run more than once before its
    /// transaction commits: whatever it does outside the database must be safe to repeat, and to
    /// keep when the transaction rolls back (upload pruning removes files of rows it deletes; a
    /// row that comes back without its file is an orphan, and the next upload of those bytes
    /// writes the file again).
    ///
    /// `committed` runs after the commit and before any later write of this process commits (SQLite
    /// still holds its write lock), so what it hands on follows commit order.
    func write<T: Sendable>(
        batch: UUID?,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T,
        committed: @escaping @Sendable (T) -> Void
    ) async throws -> T

    /// Whether `error` is the database refusing a duplicate in a unique index.
    func isUniqueViolation(_ error: any Error) -> Bool

    /// Whether `error` is a transaction chosen to fail so that others may go on (a deadlock or a
    /// serialization failure): trying it again is safe and likely to succeed.
    func isRetryable(_ error: any Error) -> Bool
}

extension Database {
    /// Answers when the database answers a trivial query, throws otherwise.
    package func ping() async throws {
        _ = try await read { try await $0.raw("SELECT 1 AS one").first() }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    package func write<T: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T,
        committed: @escaping @Sendable (T) -> Void = { _ in }
    ) async throws -> T {
        try await write(batch: nil, body, committed: committed)
    }
}

extension SQLDatabase {
    /// Runs `body` between `begin` and COMMIT on this connection, or rolls back when it throws.
    func transaction<T>(
        begin: String,
        _ body: (any SQLDatabase) async throws -> T,
        committed: (T) -> Void
    ) async throws -> T {
        try await raw(SQLQueryString(begin)).run()
        do {
            let result = try await body(self)
            try await raw("COMMIT").run()
            committed(result)
            return result
        } catch {
            try? await raw("ROLLBACK").run()
            throw error
        }
    }

    /// Holds a named lock until the transaction ends, so that processes sharing the database take turns.
    ///
    /// SQLite needs nothing: its write transactions start `IMMEDIATE` and so already exclude each other.
    package func lock(_ name: String, kind: DatabaseKind) async throws {
        guard kind == .postgres else { return }
        try await raw("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || \(bind: name), 0))").run()
    }
}

/// A select list of `columns`, optionally qualified by `table` and renamed with `prefix`
/// (`u.id AS u_id, …`), for joins that read two tables' rows side by side.
func selectList(_ columns: [String], table: String?, prefix: String) -> String {
    columns.map { column in
        let qualified = table.map { "\($0).\(column)" } ?? column
        return prefix.isEmpty ? qualified : "\(qualified) AS \(prefix)\(column)"
    }.joined(separator: ", ")
}

extension String {
    /// The string, or nil when it is empty: the columns that default to '' mean "none" on the wire.
    var nonEmpty: String? { isEmpty ? nil : self }
}
