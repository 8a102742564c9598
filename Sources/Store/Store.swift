package import Bus
import Foundation
package import Logging
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
    /// How long sessions live.
    package let sessions: SessionPolicy
    /// Where uploaded images' bytes live.
    package let blobs: any BlobStore
    /// Signs and checks the URLs of uploaded images.
    package let media: MediaLinks
    /// The account rules it enforces.
    package let accounts: AccountPolicy
    /// Where a slow write is reported.
    let logger: Logger

    /// A write that takes longer than this, waiting for the database included, is logged with the
    /// function that made it: the first clue to a latency stall.
    static let slowWrite: Duration = .milliseconds(100)

    /// A store on `database`. Images go to `blobs`; without one, into PostgreSQL itself, or with
    /// SQLite into a fresh temporary folder (the server passes its data folder's).
    package init(
        database: any Database,
        bus: EventBus,
        sessions: SessionPolicy = SessionPolicy(),
        accounts: AccountPolicy = AccountPolicy(),
        blobs: (any BlobStore)? = nil,
        logger: Logger = Logger(label: "parley.store")
    ) {
        self.logger = logger
        self.database = database
        self.bus = bus
        self.sessions = sessions
        self.accounts = accounts
        self.blobs =
            blobs
            ?? (database.kind == .postgres
                ? PostgresBlobStore(database: database)
                : FileBlobStore(directory: NSTemporaryDirectory() + "parley-media-\(UUID().uuidString)"))
        self.media = MediaLinks()
    }

    /// Runs `body` in one write transaction and publishes the events it appended once it commits.
    ///
    /// A transaction the database aborted to break a deadlock, or for a serialization conflict, is
    /// run again, up to `Store.attempts` times in all. `batch` is the conversation the write appends
    /// to when writes into it should share transactions (`Database.write`).
    func write<T: Sendable>(function: StaticString = #function, batch: UUID? = nil, _ body: @escaping @Sendable (Transaction) async throws -> T) async throws -> T {
        let kind = database.kind
        let bus = bus
        let media = media
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            if elapsed > Self.slowWrite {
                logger.notice("Slow database write", metadata: ["function": "\(function)", "ms": "\(elapsed / .milliseconds(1))"])
            }
        }
        try await bus.prepare()
        for attempt in 1... {
            do {
                return try await database.write(
                    batch: batch,
                    { sql in
                        let transaction = Transaction(sql: sql, kind: kind, bus: bus, media: media)
                        return Committed(value: try await body(transaction), events: transaction.appended)
                    },
                    committed: { bus.committed($0.events) }
                ).value
            } catch where attempt < Self.attempts && database.isRetryable(error) {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...20) * attempt))
            }
        }
        preconditionFailure("unreachable")
    }

    /// How many times a write runs at most when the database keeps aborting it.
    static let attempts = 4

    /// Reads outside any transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
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
    /// Signs the image URLs in what the transaction returns and appends.
    let media: MediaLinks
    private let log = Mutex<[FramedEvent]>([])

    init(sql: any SQLDatabase, kind: DatabaseKind, bus: EventBus, media: MediaLinks) {
        self.sql = sql
        self.kind = kind
        self.bus = bus
        self.media = media
    }

    /// Records an appended event, for the bus once the transaction commits.
    func appended(_ event: FramedEvent) { log.withLock { $0.append(event) } }

    /// The events appended so far, in order.
    var appended: [FramedEvent] { log.withLock { $0 } }

    /// Holds a named lock until the transaction ends, so that processes sharing the database take turns.
    func lock(_ name: String) async throws {
        try await sql.lock(name, kind: kind)
    }

    /// Locks a conversation's row until the transaction ends, so that changes to one conversation —
    /// roles, members, its deletion — take turns and each sees the one before. (SQLite's writes take
    /// turns anyway.)
    func lockConversation(_ id: UUID) async throws {
        guard kind == .postgres else { return }
        try await sql.raw("SELECT id FROM conversations WHERE id = \(bind: id) FOR UPDATE").run()
    }

    /// Locks these streams' counters in one order — sorted — before a transaction appends to several
    /// of them, so that two such transactions never wait on each other in a circle.
    func lockStreams(_ streams: [StreamID]) async throws {
        guard kind == .postgres, streams.count > 1 else { return }
        let sorted = Array(Set(streams)).sorted()
        var query = SQLQueryString("INSERT INTO event_streams (stream, last_seq) VALUES ")
        for (index, stream) in sorted.enumerated() {
            query = query + (index == 0 ? "" : ", ") + "(\(bind: stream.rawValue), 0)"
        }
        try await sql.raw(query + " ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq").run()
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
