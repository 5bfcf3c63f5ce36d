import CSQLite

/// Process-wide SQLite settings, applied once before the first connection.
private let configureSQLiteOnce: Void = {
    // Turning memory statistics off removes a global mutex from every allocation SQLite makes.
    // (sqlite3_config is variadic: the C shim calls it with its one int argument.)
    _ = massiva_sqlite3_config_int(SQLITE_CONFIG_MEMSTATUS, 0)
}()

/// A connection to one SQLite database file.
///
/// Not thread-safe by itself: one connection is used by one thread at a time (the daemon's
/// processing thread, or one CLI command). It is `@unchecked Sendable` so it can be handed to
/// that thread. Statements are prepared once and cached per SQL text; a statement still being
/// stepped (by `each`, or a query whose transform runs another query) is taken out of the cache
/// meanwhile, so a nested use of the same SQL gets a statement of its own instead of resetting
/// the outer one under its feet.
public final class Database: @unchecked Sendable {
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private var transactionDepth = 0
    public let path: String
    /// Run at the start of every outermost write transaction, inside it: a throw rolls it back.
    /// Set on the connections of a daemon that leads the spool (MassivaStore's `LeaderFence`),
    /// so a former leader commits nothing. On such a connection a write outside a transaction is
    /// refused (it could not be checked in the same transaction).
    public var writeGuard: ((Database) throws -> Void)?

    /// Opens (creating if needed) the database at `path`, in WAL mode so operator commands can
    /// read while the daemon writes.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws(DatabaseError) {
        _ = configureSQLiteOnce
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw DatabaseError(code: rc, message: "\(path): \(message)", sql: nil)
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
        try execute("PRAGMA page_size = 8192")  // new databases only
        try execute("PRAGMA journal_mode = WAL")
        // NORMAL in WAL mode: a commit survives a process crash (kill -9); the claim of an
        // uploaded file raises it to FULL around its own transaction (see `withFullSync`).
        try execute("PRAGMA synchronous = NORMAL")
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA cache_size = -8192")  // 8 MiB a connection: the daemon has two
        try execute("PRAGMA temp_store = MEMORY")
        // Fewer, larger checkpoints: pages rewritten by consecutive requests are copied once.
        try execute("PRAGMA wal_autocheckpoint = 8192")
    }

    deinit {
        cache.removeAll()  // finalizes them (Statement.deinit) before the connection closes
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(DatabaseError) {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(error)
            throw DatabaseError(code: rc, message: message, sql: sql)
        }
    }

    /// The cached prepared statement for `sql`, reset and with bindings cleared; a statement of
    /// its own, uncached, when the cached one is being stepped by an outer `each` or query.
    public func prepare(_ sql: String) throws(DatabaseError) -> Statement {
        if let statement = cache[sql] {
            if statement.inUse { return try compile(sql) }
            statement.reset()
            return statement
        }
        let statement = try compile(sql)
        cache[sql] = statement
        return statement
    }

    private func compile(_ sql: String) throws(DatabaseError) -> Statement {
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw DatabaseError(code: rc, message: lastMessage, sql: sql) }
        return Statement(raw, database: self, sql: sql)
    }

    /// Prepares `sql` and marks it in use while `body` steps it, so that a nested use of the same
    /// SQL from `body` gets a statement of its own (see `prepare`).
    private func stepping<R>(_ sql: String, _ bindings: [SQLValue], _ body: (Statement) throws -> R) throws -> R {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        statement.inUse = true
        defer {
            statement.inUse = false
            statement.reset()
        }
        return try body(statement)
    }

    /// Runs `sql` with `bindings`, stepping it to completion.
    public func run(_ sql: String, _ bindings: [SQLValue] = []) throws(DatabaseError) {
        let statement = try prepare(sql)
        if writeGuard != nil && transactionDepth == 0 && sqlite3_stmt_readonly(statement.raw) == 0 {
            throw DatabaseError(code: SQLITE_MISUSE, message: "a write outside a transaction on a fenced connection", sql: sql)
        }
        try statement.bind(bindings)
        while try statement.step() {}
    }

    /// Inserts `rows` (each one value per column) with multi-row INSERT statements of up to 32
    /// rows: one statement step instead of one per row.
    public func insert(into table: String, columns: String, columnCount: Int, rows: [[SQLValue]],
                       orReplace: Bool = false) throws(DatabaseError) {
        var start = 0
        while start < rows.count {
            let count = min(32, rows.count - start)
            let tuple = "(" + Array(repeating: "?", count: columnCount).joined(separator: ",") + ")"
            let sql = (orReplace ? "INSERT OR REPLACE INTO " : "INSERT INTO ") + table + "(" + columns + ") VALUES "
                + Array(repeating: tuple, count: count).joined(separator: ",")
            var values: [SQLValue] = []
            values.reserveCapacity(count * columnCount)
            for row in rows[start..<(start + count)] { values += row }
            try run(sql, values)
            start += count
        }
    }

    /// Every row of `sql`, mapped by `transform`.
    public func query<T>(_ sql: String, _ bindings: [SQLValue] = [], _ transform: (Statement) throws -> T) throws -> [T] {
        try stepping(sql, bindings) { statement in
            var out: [T] = []
            while try statement.step() { out.append(try transform(statement)) }
            return out
        }
    }

    /// Calls `body` with each row of `sql` in turn, without collecting them: for results of any
    /// size. `body` may run other statements, the same SQL included.
    public func each(_ sql: String, _ bindings: [SQLValue] = [], _ body: (Statement) throws -> Void) throws {
        try stepping(sql, bindings) { statement in
            while try statement.step() { try body(statement) }
        }
    }

    /// The first row of `sql`, mapped by `transform`, or nil.
    public func queryOne<T>(_ sql: String, _ bindings: [SQLValue] = [], _ transform: (Statement) throws -> T) throws -> T? {
        try stepping(sql, bindings) { statement in
            guard try statement.step() else { return nil }
            return try transform(statement)
        }
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`, so a writer never fails half-way on a
    /// lock upgrade): committed if it returns, rolled back if it throws. A nested call is a
    /// savepoint inside the outer transaction.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            // Nested: a savepoint, so a failing inner part is undone alone and the outer
            // transaction (a group of requests) can go on and commit the rest.
            let name = "nested\(transactionDepth)"
            try execute("SAVEPOINT \(name)")
            transactionDepth += 1
            do {
                let value = try body()
                transactionDepth -= 1
                try execute("RELEASE \(name)")
                return value
            } catch {
                transactionDepth -= 1
                try? execute("ROLLBACK TO \(name)")
                try? execute("RELEASE \(name)")
                throw error
            }
        }
        try execute("BEGIN IMMEDIATE")
        transactionDepth = 1
        do {
            try writeGuard?(self)
            let value = try body()
            transactionDepth = 0
            try execute("COMMIT")
            return value
        } catch {
            transactionDepth = 0
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a read transaction: every query in it sees one snapshot, while a writer on
    /// another connection goes on (WAL).
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 { return try body() }
        try execute("BEGIN DEFERRED")
        transactionDepth = 1
        defer {
            transactionDepth = 0
            try? execute("COMMIT")
        }
        return try body()
    }

    /// Runs `body` with `synchronous = FULL`: its commits reach the disk before it returns.
    /// Used where a commit replaces a file that is then removed (the claim of an upload).
    public func withFullSync<T>(_ body: () throws -> T) throws -> T {
        try execute("PRAGMA synchronous = FULL")
        defer { try? execute("PRAGMA synchronous = NORMAL") }
        return try body()
    }

    public var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

extension Database {
    /// Copies this database, as one consistent snapshot, into `destination` (a new file) with
    /// SQLite's online backup API.
    ///
    /// One `sqlite3_backup_step(-1)` copies every page under a single read transaction: in WAL
    /// mode writers on other connections (the daemon) go on meanwhile, and the copy is the state
    /// of one commit, never a mixture. (Stepping in slices would restart whenever another
    /// connection writes, which a busy daemon could make endless.)
    public func backup(to destination: BackupDestination) throws(DatabaseError) {
        let path = destination.path
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw DatabaseError(code: sqlite3_errcode(destination.handle), message: "\(path): \(destination.lastMessage)", sql: nil)
        }
        var step = sqlite3_backup_step(backup, -1)
        // BUSY/LOCKED: the source was locked for a moment (a checkpoint); try again, bounded.
        var tries = 0
        while (step == SQLITE_BUSY || step == SQLITE_LOCKED) && tries < 100 {
            tries += 1
            sqlite3_sleep(50)
            step = sqlite3_backup_step(backup, -1)
        }
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else {
            let code = step == SQLITE_DONE ? finish : step
            throw DatabaseError(code: code, message: "backup to \(path): \(destination.lastMessage)", sql: nil)
        }
    }
}
