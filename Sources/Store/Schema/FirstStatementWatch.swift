import Logging
import NIOCore
import SQLKit
import Synchronization

/// Whether an operation on a pooled PostgreSQL connection got its connection and had any statement
/// answered, so that one whose connection turns out dead before its first answer can run again on
/// another: nothing it sent was applied (a write's first statement is its `BEGIN`).
///
/// A pooled connection whose server process just ended (`pg_terminate_backend`, a restart, an
/// idle timeout) can be handed out before the pool has read that it closed.
final class FirstStatementWatch: Sendable {
    private let state = Mutex((connected: false, answered: false))

    /// It holds a connection now.
    func connected() { state.withLock { $0.connected = true } }

    /// Whether it held a connection and no statement on it was answered: when such an operation
    /// failed for want of its connection, running it again repeats nothing.
    var connectedButUnanswered: Bool { state.withLock { $0.connected && !$0.answered } }

    /// `database`, telling this watch when a statement is answered.
    func watching(_ database: any SQLDatabase) -> any SQLDatabase {
        Watched(base: database, watch: self)
    }

    fileprivate func answered() {
        state.withLock { $0.answered = true }
    }
}

/// A connection's `SQLDatabase` that reports each answered statement to its watch.
private struct Watched: SQLDatabase {
    let base: any SQLDatabase
    let watch: FirstStatementWatch

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        base.execute(sql: query, onRow).map { watch.answered() }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await base.execute(sql: query, onRow)
        watch.answered()
    }
}
