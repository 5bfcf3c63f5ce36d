import CLibpq
import CSQLite

/// Process-wide SQLite settings, applied once before the first connection.
private let configureSQLiteOnce: Void = {
    // Turning memory statistics off removes a global mutex from every allocation SQLite makes.
    // (sqlite3_config is variadic: the C shim calls it with its one int argument.)
    _ = massiva_sqlite3_config_int(SQLITE_CONFIG_MEMSTATUS, 0)
}()

/// A connection to the spool's database: an SQLite file (the embedded default) or a PostgreSQL
/// database (`DatabaseLocation`), behind one interface, so the store's SQL has one owner.
///
/// Not thread-safe by itself: one connection is used by one thread at a time (the daemon's
/// processing thread, or one CLI command). It is `@unchecked Sendable` so it can be handed to
/// that thread. Statements are prepared once and cached per SQL text; on SQLite a statement still
/// being stepped (by `each`, or a query whose transform runs another query) is taken out of the
/// cache meanwhile, so a nested use of the same SQL gets a statement of its own instead of
/// resetting the outer one under its feet.
///
/// The same transactions on both engines: one writer at a time (`BEGIN IMMEDIATE` on SQLite; on
/// PostgreSQL a transaction-scoped advisory lock taken first, so the store's read-then-write
/// steps see no other writer's commit in between, as they were written for), readers on a
/// snapshot, savepoints for nested transactions.
public final class Database: @unchecked Sendable {
    let handle: OpaquePointer!
    let postgres: PostgresConnection?
    private var cache: [String: Statement] = [:]
    private var transactionDepth = 0
    /// Inside `writingBehind`: PostgreSQL's writes in a transaction are sent without waiting.
    private var writeBehindDepth = 0
    /// Inside `withoutSavepoints`: a nested transaction is part of the outer one.
    private var flatDepth = 0
    public let location: DatabaseLocation
    /// The file's path, or the PostgreSQL URI without its password: for logs and errors.
    public var path: String { location.description }
    public var engine: DatabaseLocation.Engine { location.engine }
    /// Run at the start of every outermost write transaction, inside it: a throw rolls it back.
    /// Set on the connections of a daemon that leads the spool (MassivaStore's `LeaderFence`),
    /// so a former leader commits nothing. On such a connection a write outside a transaction is
    /// refused (it could not be checked in the same transaction).
    public var writeGuard: ((Database) throws -> Void)?
    /// PostgreSQL: the server ends this connection's session when it sits idle inside a
    /// transaction for `seconds` (`idle_in_transaction_session_timeout`), which ends the
    /// transaction and frees its locks, for this session and every reconnection. For a daemon's
    /// connections (`LeaderFence.install`): a leader frozen inside a write transaction (SIGSTOP,
    /// a VM paused) held the writers' advisory lock for as long as it was frozen, so the standby
    /// could not even look at the lease to take it over (FailoverTests' paused leader, 2 runs in
    /// 16 on PostgreSQL). SQLite: nothing (a frozen writer holds its lock the same way; the
    /// spool there is on one host). Within a daemon's transactions nothing waits on anything
    /// but the database: probes and file writes are outside them.
    public func limitIdleTransactions(to seconds: Double) throws(DatabaseError) {
        guard let postgres else { return }
        try postgres.setIdleTransactionLimit(max(1, Int((seconds * 1000).rounded())))
    }

    /// Called before a nested transaction's SAVEPOINT: whoever keeps writes or answers for the
    /// transaction under way in memory (`EmbeddedRegistry.withLookups`) writes them and stops
    /// answering from memory, since the savepoint may be rolled back without its knowing.
    public var beforeSavepoint: (() throws -> Void)?

    /// The key of PostgreSQL's advisory lock that makes writers take turns (in the database's
    /// own space of keys: another database's massiva does not wait for it). "massiva" in ASCII.
    static let writerLockKey = 0x6d_6173_7369_7661
    /// `writerLockKey`, for a test that holds the writers' lock as a stopped process would.
    public static var writerLockKeyForTests: Int { writerLockKey }

    /// Opens the database at `location`: `init(path:)` for SQLite, libpq's connection for
    /// PostgreSQL (an error says libpq's message, never the password).
    public convenience init(location: DatabaseLocation) throws(DatabaseError) {
        switch location {
        case .sqlite(let path): try self.init(path: path)
        case .postgresql(let uri):
            do {
                try self.init(postgres: PostgresConnection(uri: uri), location: location)
            } catch {
                throw DatabaseError(code: error.code, message: "\(location): \(error.message)", sql: nil, sqlState: error.sqlState)
            }
        }
    }

    private init(postgres: PostgresConnection, location: DatabaseLocation) {
        handle = nil
        self.postgres = postgres
        self.location = location
    }

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
        postgres = nil
        location = .sqlite(path: path)
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
        if handle != nil { sqlite3_close_v2(handle) }
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(DatabaseError) {
        if let postgres {
            if transactionDepth == 0 { try postgres.resetIfNeeded() }
            try postgres.execute(sql)
            return
        }
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
        if let postgres {
            if transactionDepth == 0 {
                try postgres.resetIfNeeded()
                if !Self.readsOnly(sql) {
                    if writeGuard != nil {
                        throw DatabaseError(code: 21, message: "a write outside a transaction on a fenced connection", sql: sql)
                    }
                    // As SQLite takes its write lock for a lone statement: the writers' turn.
                    do {
                        try transaction { () throws -> Void in PQclear(try postgres.run(sql, bindings)) }
                    } catch let error as DatabaseError {
                        throw error
                    } catch {
                        throw DatabaseError(code: 1, message: "\(error)", sql: sql)
                    }
                    return
                }
            }
            if writeBehindDepth > 0 && transactionDepth > 0 && !Self.readsOnly(sql) {
                try postgres.sendBehind(sql, bindings)
                return
            }
            PQclear(try postgres.run(sql, bindings))
            return
        }
        let statement = try prepare(sql)
        if writeGuard != nil && transactionDepth == 0 && sqlite3_stmt_readonly(statement.raw) == 0 {
            throw DatabaseError(code: SQLITE_MISUSE, message: "a write outside a transaction on a fenced connection", sql: sql)
        }
        try statement.bind(bindings)
        while try statement.step() {}
    }

    /// Inserts `rows` (each one value per column) with multi-row INSERT statements: one
    /// statement step instead of one per row. Up to 32 rows a statement on SQLite, 128 on
    /// PostgreSQL, where each statement is a round trip: 32 made the rows, associations and
    /// audit entries of a 100-row request twelve of them, not three. SQLite keeps 32: with 128,
    /// two runs of `serve --once` on 1,000 files took 3.04 and 3.13 s of system time against 0.76
    /// and 1.65 (user time the same), not established against this ext4's noise
    /// (docs/performance.md). With `replacingOn` (the key's columns, such as `request, position`), a row whose key exists has its other columns replaced: an
    /// upsert, the same text for SQLite and PostgreSQL (SQLite's `INSERT OR REPLACE` is not
    /// PostgreSQL's, and deletes and re-inserts where this updates in place).
    public func insert(into table: String, columns: String, columnCount: Int, rows: [[SQLValue]],
                       replacingOn key: String? = nil) throws(DatabaseError) {
        var upsert = ""
        if let key {
            let keyColumns = Set(key.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) })
            upsert = " ON CONFLICT(" + key + ") DO UPDATE SET "
                + columns.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }
                    .filter { !keyColumns.contains($0) }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        }
        var start = 0
        while start < rows.count {
            let count = min(postgres == nil ? 32 : 128, rows.count - start)
            let tuple = "(" + Array(repeating: "?", count: columnCount).joined(separator: ",") + ")"
            let sql = "INSERT INTO " + table + "(" + columns + ") VALUES "
                + Array(repeating: tuple, count: count).joined(separator: ",") + upsert
            var values: [SQLValue] = []
            values.reserveCapacity(count * columnCount)
            for row in rows[start..<(start + count)] { values += row }
            try run(sql, values)
            start += count
        }
    }

    /// PostgreSQL only: `COPY table(columns) FROM STDIN` of the rows `body` writes (text format,
    /// escaped by `PostgresCopyWriter`); returns how many were copied. Many rows in one statement
    /// and one stream, no statement or round trip per row: for the registry import's millions of
    /// lines. A failure (the server's, with its SQLSTATE, or `body`'s own error) copies nothing and
    /// leaves the connection ready for the next statement. As `run`: outside a transaction it is a
    /// write transaction of its own, refused on a fenced connection. SQLite has no COPY: refused.
    @discardableResult
    public func copy(into table: String, columns: [String], _ body: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
        let sql = "COPY \(table)(\(columns.joined(separator: ", "))) FROM STDIN"
        guard let postgres else { throw DatabaseError(code: SQLITE_MISUSE, message: "COPY is PostgreSQL's: SQLite has none", sql: sql) }
        if transactionDepth == 0 {
            try postgres.resetIfNeeded()
            if writeGuard != nil {
                throw DatabaseError(code: 21, message: "a write outside a transaction on a fenced connection", sql: sql)
            }
            return try transaction { try postgres.copyIn(sql, body) }
        }
        return try postgres.copyIn(sql, body)
    }

    /// Every row of `sql`, mapped by `transform`.
    public func query<T>(_ sql: String, _ bindings: [SQLValue] = [], _ transform: (Statement) throws -> T) throws -> [T] {
        if postgres != nil {
            let statement = try postgresRows(sql, bindings)
            var out: [T] = []
            while statement.rows!.next() { out.append(try transform(statement)) }
            return out
        }
        return try stepping(sql, bindings) { statement in
            var out: [T] = []
            while try statement.step() { out.append(try transform(statement)) }
            return out
        }
    }

    /// Calls `body` with each row of `sql` in turn, without collecting them: for results of any
    /// size. `body` may run other statements, the same SQL included.
    public func each(_ sql: String, _ bindings: [SQLValue] = [], _ body: (Statement) throws -> Void) throws {
        try each(sql, bindings, fetchingAtMost: Self.fetchRows, body)
    }

    /// `each`, with PostgreSQL's cursor fetching at most `rows` rows at a time (SQLite steps one
    /// row at a time anyway): fewer for rows that may be large (a request's uploaded bytes, up to
    /// `max_file_size` each), so that one fetch stays a bounded amount of memory.
    public func each(_ sql: String, _ bindings: [SQLValue] = [], fetchingAtMost rows: Int,
                     _ body: (Statement) throws -> Void) throws {
        if postgres != nil { return try postgresEach(sql, bindings, fetching: max(1, rows), body) }
        try stepping(sql, bindings) { statement in
            while try statement.step() { try body(statement) }
        }
    }

    /// The first row of `sql`, mapped by `transform`, or nil.
    public func queryOne<T>(_ sql: String, _ bindings: [SQLValue] = [], _ transform: (Statement) throws -> T) throws -> T? {
        if postgres != nil {
            let statement = try postgresRows(sql, bindings)
            guard statement.rows!.next() else { return nil }
            return try transform(statement)
        }
        return try stepping(sql, bindings) { statement in
            guard try statement.step() else { return nil }
            return try transform(statement)
        }
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`, so a writer never fails half-way on a
    /// lock upgrade): committed if it returns, rolled back if it throws. A nested call is a
    /// savepoint inside the outer transaction.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 && flatDepth > 0 {
            // Part of the outer transaction (`withoutSavepoints`): whatever fails, fails it.
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body()
        }
        if transactionDepth > 0 {
            // Nested: a savepoint, so a failing inner part is undone alone and the outer
            // transaction (a group of requests) can go on and commit the rest.
            let name = "nested\(transactionDepth)"
            try beforeSavepoint?()
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
        do {
            try begin(postgres == nil ? "BEGIN IMMEDIATE"
                      : "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(\(Self.writerLockKey))")
        } catch {
            // PostgreSQL: the BEGIN went through and the lock's wait failed (lock_timeout), so
            // the transaction is open and aborted; left so, every later statement of this
            // connection failed with 25P02 (a standby's lease tries, for ever, in FailoverTests).
            if postgres != nil { try? execute("ROLLBACK") }
            throw error
        }
        transactionDepth = 1
        do {
            try writeGuard?(self)
            let value = try body()
            transactionDepth = 0
            if let postgres { try postgres.commit() } else { try execute("COMMIT") }
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
        // PostgreSQL: REPEATABLE READ is one snapshot for the whole transaction, as SQLite's
        // read transaction in WAL mode.
        try begin(postgres == nil ? "BEGIN DEFERRED" : "BEGIN ISOLATION LEVEL REPEATABLE READ")
        transactionDepth = 1
        defer {
            transactionDepth = 0
            try? execute("COMMIT")
        }
        return try body()
    }

    /// Begins a top-level transaction. On PostgreSQL, a connection the server closed while it
    /// sat idle (a restart, a failover, `pg_terminate_backend`) is only found dead by the next
    /// statement sent on it: when that is the BEGIN, nothing of the transaction was sent yet, so
    /// it is opened again and the BEGIN sent once more. Without this, each of the daemon's
    /// connections (the engine's, the lists', the results', the lease's, the outbox's) failed
    /// its first transaction after a server restart, each a `pass_failed` or `lists_failed` and
    /// a backoff, after the server was back.
    private func begin(_ sql: String) throws(DatabaseError) {
        do {
            try execute(sql)
        } catch where postgres != nil && error.isConnectionLost {
            try execute(sql)  // `execute` opens the connection again first (`resetIfNeeded`)
        }
    }

    /// Runs `body` with `synchronous = FULL`: its commits reach the disk before it returns.
    /// Used where a commit replaces a file that is then removed (the claim of an upload).
    public func withFullSync<T>(_ body: () throws -> T) throws -> T {
        // PostgreSQL: a commit is on the server's disk when it returns (synchronous_commit on,
        // its default), or on its synchronous standby's as the operator configures it.
        if postgres != nil { return try body() }
        try execute("PRAGMA synchronous = FULL")
        defer { try? execute("PRAGMA synchronous = NORMAL") }
        return try body()
    }

    /// The rows the last INSERT, UPDATE or DELETE changed.
    public var changes: Int { postgres?.changesAfterPipeline ?? Int(sqlite3_changes(handle)) }

    /// Runs `body` with PostgreSQL's writes inside a transaction sent behind: each is sent
    /// without waiting for its answer (libpq's pipeline mode), so the server runs it while this
    /// thread goes on; the answers are read, and the first error thrown, by the next statement
    /// that needs one (a read, the COMMIT, `changes`). A write's error may so be thrown by a later
    /// statement than its own: for a body whose every failure fails the whole transaction (see
    /// `withoutSavepoints`). SQLite: `body`, as it is.
    ///
    /// Measured with `scripts/bench` (docs/performance.md): a pass's writes were about half its
    /// round trips on PostgreSQL, each waited for while the server inserted a request's rows.
    public func writingBehind<T>(_ body: () throws -> T) rethrows -> T {
        writeBehindDepth += 1
        defer { writeBehindDepth -= 1 }
        return try body()
    }

    /// Runs `body` with nested transactions made part of the one under way (no SAVEPOINT): a
    /// failure inside one fails the outer transaction, which its caller rolls back whole. For a
    /// caller that runs the work again with savepoints when that happens (`Engine`'s groups on
    /// PostgreSQL): a savepoint is a round trip, and a pipeline's error aborts it anyway. A
    /// failed statement whose error is caught in `body` cannot go unseen: PostgreSQL answers the
    /// COMMIT of such a transaction with ROLLBACK, which `transaction` throws.
    public func withoutSavepoints<T>(_ body: () throws -> T) rethrows -> T {
        // SQLite: savepoints as always (a COMMIT there does not say that a statement failed).
        guard postgres != nil else { return try body() }
        flatDepth += 1
        defer { flatDepth -= 1 }
        return try body()
    }

    /// Whether `sql` only reads: on PostgreSQL a lone statement that writes runs in a write
    /// transaction of its own (`run`). A statement starting with SELECT, VALUES, SHOW or
    /// EXPLAIN; a WITH writes if it names INSERT, UPDATE or DELETE.
    static func readsOnly(_ sql: String) -> Bool {
        let upper = sql.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "(" }).prefix(8).uppercased()
        if upper.hasPrefix("SELECT") || upper.hasPrefix("VALUES") || upper.hasPrefix("SHOW") || upper.hasPrefix("EXPLAIN") { return true }
        if upper.hasPrefix("WITH") {
            let all = sql.uppercased()
            return !(all.contains("INSERT") || all.contains("UPDATE") || all.contains("DELETE"))
        }
        return false
    }

    // MARK: PostgreSQL's rows

    /// All the rows of `sql` (a query's result is read whole by libpq: the store's `query` and
    /// `queryOne` statements are bounded; `each` reads through a cursor).
    private func postgresRows(_ sql: String, _ bindings: [SQLValue]) throws(DatabaseError) -> Statement {
        let postgres = postgres!
        func rows() throws(DatabaseError) -> Statement {
            Statement(rows: PostgresRows(try postgres.run(sql, bindings)), database: self, sql: sql)
        }
        guard transactionDepth == 0 else { return try rows() }
        try postgres.resetIfNeeded()
        do {
            return try rows()
        } catch where error.isConnectionLost && Self.readsOnly(sql) {
            // A lone read on a connection the server closed while idle (see `begin`): read again
            // on a new one. Only a read: a lone write may have committed before the answer was lost.
            try postgres.resetIfNeeded()
            return try rows()
        }
    }

    /// Rows a cursor's `FETCH` brings at once: a round trip per 500 rows, and at most that many
    /// in memory (a list of 500,000 associations streams in 1,000 fetches).
    static let fetchRows = 500

    /// `each` on PostgreSQL: a cursor in the caller's transaction (or a read transaction of its
    /// own), fetched in slices, so a result of any size takes bounded memory and `body` may run
    /// other statements between rows.
    private func postgresEach(_ sql: String, _ bindings: [SQLValue], fetching: Int, _ body: (Statement) throws -> Void) throws {
        if transactionDepth == 0 { return try readTransaction { try postgresEach(sql, bindings, fetching: fetching, body) } }
        let postgres = postgres!
        try postgres.withCursorName { cursor in
            PQclear(try postgres.run("DECLARE \(cursor) NO SCROLL CURSOR FOR " + sql, bindings))
            defer { try? postgres.execute("CLOSE \(cursor)") }
            while true {
                let rows = PostgresRows(try postgres.run("FETCH \(fetching) FROM \(cursor)", []))
                let statement = Statement(rows: rows, database: self, sql: sql)
                while rows.next() { try body(statement) }
                if rows.count < fetching { return }
            }
        }
    }
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

extension Database {
    /// The text for this connection's engine, where the two dialects differ (the store's few
    /// such places: SQLite's `INDEXED BY`, `group_concat`, `COLLATE NOCASE`; PostgreSQL's
    /// `string_agg`, `lower()`). Everything else the store writes is the same text for both.
    public func dialect(sqlite: String, postgresql: String) -> String {
        engine == .sqlite ? sqlite : postgresql
    }
}
