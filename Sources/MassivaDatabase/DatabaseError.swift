/// A database failure: SQLite's result code or PostgreSQL's SQLSTATE, the engine's message, and
/// the statement it came from.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// SQLite's (extended) result code; on PostgreSQL 1 (SQLITE_ERROR), or 21 (SQLITE_MISUSE)
    /// for a misuse the wrapper itself refuses.
    public let code: Int32
    public let message: String
    public let sql: String?
    /// PostgreSQL's SQLSTATE (five characters), nil on SQLite. `08xxx` and the wrapper's own
    /// "connection lost" mean the server is out of reach.
    public let sqlState: String?

    public init(code: Int32, message: String, sql: String?, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.sqlState = sqlState
    }

    public var description: String {
        let head = sqlState.map { "database error \($0)" } ?? "database error \(code)"
        return head + ": \(message)" + (sql.map { " (in: \($0.prefix(120)))" } ?? "")
    }

    /// The database is held by another writer longer than the wait allowed (SQLite's busy
    /// timeout, PostgreSQL's lock_timeout), or PostgreSQL gave up a transaction for a
    /// serialization failure or a deadlock: not the work's fault; it is tried again later.
    public var isBusy: Bool {
        if let sqlState { return sqlState == "55P03" || sqlState == "40001" || sqlState == "40P01" }
        return code & 0xff == 5 || code & 0xff == 6
    }

    /// The database server is out of reach (a dropped connection, a restart, a failover, too
    /// many connections, a server starting or shutting down): an outage; the connection is
    /// opened again at its next use.
    public var isConnectionLost: Bool {
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState == "53300" || sqlState == "25006"
    }
}
