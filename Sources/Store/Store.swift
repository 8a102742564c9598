import Foundation
import Models

/// All of Parley's persistent state, behind one API that is the same on SQLite and PostgreSQL.
///
/// Every write is one transaction, and every change clients must learn about appends its event
/// to the log in that same transaction.
public struct Store: Sendable {
    /// Where the queries run.
    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }
}

/// A failure of the Store itself, never of the caller's input.
public enum StoreError: Error, CustomStringConvertible {
    /// A statement that must return a row returned none.
    case noRowReturned(String)

    public var description: String {
        switch self {
        case .noRowReturned(let table): "A write to \(table) returned no row."
        }
    }
}
