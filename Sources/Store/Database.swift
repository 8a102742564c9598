import Logging
import Models
import SQLKit
import ServiceLifecycle
import Synchronization

/// The SQL dialect behind a `Database`, for the few statements that differ between them.
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// Where the Store's queries run: reads on any connection, writes in one transaction each.
///
/// Two implementations exist, `SQLiteDatabase` and `PostgresDatabase`; everything above this seam
/// is the same code for both.
public protocol Database: Sendable {
    /// The dialect, for the statements that differ.
    var kind: DatabaseKind { get }

    /// Runs reads outside any transaction.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func write<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T

    /// Answers when the database answers a trivial query, throws otherwise.
    func ping() async throws

    /// Whether `error` is the database refusing a duplicate in a unique index.
    func isUniqueViolation(_ error: any Error) -> Bool

    /// Where committed events and signals arrive on this node.
    var bus: EventBus { get }

    /// Sends an ephemeral signal to every node (this one included).
    func publish(_ signal: Signal) async throws

    /// The service that feeds `bus` with what other nodes commit; nil when the database has no other
    /// nodes (SQLite). Only nodes that deliver events need to run it.
    func makeBusListener(logger: Logger) -> (any Service)?
}

/// One open write transaction.
public struct Transaction: Sendable {
    /// Queries on the transaction's connection.
    public let sql: any SQLDatabase
    /// The dialect, for the statements that differ.
    public let kind: DatabaseKind
    /// How appended events reach the bus.
    let publication: Publication

    init(sql: any SQLDatabase, kind: DatabaseKind, publication: Publication) {
        self.sql = sql
        self.kind = kind
        self.publication = publication
    }

    /// Holds a named lock until the transaction ends, so that processes sharing the database take turns.
    ///
    /// SQLite needs nothing: its write transactions start `IMMEDIATE` and so already exclude each other.
    public func lock(_ name: String) async throws {
        guard kind == .postgres else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || \(bind: name), 0))")
            .run()
    }
}

/// How a transaction's events reach the bus once it commits.
enum Publication: Sendable {
    /// PostgreSQL: NOTIFY on this channel inside the transaction, which PostgreSQL delivers at commit,
    /// in commit order, and drops on rollback.
    case notify(channel: String)
    /// SQLite: collected here and handed to the in-process bus right after the commit.
    case collect(EventCollector)
}

/// The events a transaction appended, in order.
final class EventCollector: Sendable {
    private let events = Mutex<[Event]>([])

    func add(_ event: Event) { events.withLock { $0.append(event) } }

    var collected: [Event] { events.withLock { $0 } }
}

/// A select list of `columns`, optionally qualified by `table` and renamed with `prefix`
/// (`u.id AS u_id, …`), for joins that read two tables' rows side by side.
func selectList(_ columns: [String], table: String?, prefix: String) -> String {
    columns.map { column in
        let qualified = table.map { "\($0).\(column)" } ?? column
        return prefix.isEmpty ? qualified : "\(qualified) AS \(prefix)\(column)"
    }.joined(separator: ", ")
}

extension SQLRow {
    /// Decodes a whole row into `Model`, mapping `snake_case` columns to `camelCase` properties.
    func model<Model: Decodable>(_ type: Model.Type) throws -> Model {
        try decode(model: type, keyDecodingStrategy: .convertFromSnakeCase)
    }
}
