package import Bus
import Foundation
import Models
import SQLKit
import Synchronization

/// All of Parley's persistent state, behind one API that is the same on SQLite and PostgreSQL.
///
/// Every write is one transaction, and every change clients must learn about appends its event
/// to the log in that same transaction; the bus publishes the events once it commits.
package struct Store: Sendable {
    /// Where the queries run.
    package let database: any Database
    /// Where committed events go.
    package let bus: EventBus

    package init(database: any Database, bus: EventBus) {
        self.database = database
        self.bus = bus
    }

    /// Runs `body` in one write transaction and publishes the events it appended once it commits.
    func write<T: Sendable>(_ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        let kind = database.kind
        let bus = bus
        try await bus.prepare()
        return try await database.write(
            { sql in
                let transaction = Transaction(sql: sql, kind: kind, bus: bus)
                return Committed(value: try await body(transaction), events: transaction.appended)
            },
            committed: { bus.committed($0.events) }
        ).value
    }

    /// Reads outside any transaction.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await database.read(body)
    }
}

/// A transaction's result and the events it appended.
private struct Committed<Value: Sendable>: Sendable {
    var value: Value
    var events: [FramedEvent]
}

/// One open write transaction of the Store.
final class Transaction: Sendable {
    /// Queries on the transaction's connection.
    let sql: any SQLDatabase
    /// The dialect, for the statements that differ.
    let kind: DatabaseKind
    /// Publishes the appended events.
    let bus: EventBus
    private let log = Mutex<[FramedEvent]>([])

    init(sql: any SQLDatabase, kind: DatabaseKind, bus: EventBus) {
        self.sql = sql
        self.kind = kind
        self.bus = bus
    }

    /// Records an appended event, for the bus once the transaction commits.
    func appended(_ event: FramedEvent) { log.withLock { $0.append(event) } }

    /// The events appended so far, in order.
    var appended: [FramedEvent] { log.withLock { $0 } }

    /// Holds a named lock until the transaction ends, so that processes sharing the database take turns.
    func lock(_ name: String) async throws {
        try await sql.lock(name, kind: kind)
    }
}

/// A failure of the Store itself, never of the caller's input.
package enum StoreError: Error, CustomStringConvertible {
    /// A statement that must return a row returned none.
    case noRowReturned(String)

    package var description: String {
        switch self {
        case .noRowReturned(let table): "A write to \(table) returned no row."
        }
    }
}
