import CLibpq
import Glibc

/// One libpq connection to a PostgreSQL database, as `Database` uses it: statements prepared
/// once per SQL text (named `m1`, `m2`, ...), parameters sent as text and typed by the server
/// from their context (as SQLite's loose typing takes them), results read as text.
///
/// The store's SQL is written with SQLite's placeholders (`?`, `?NNN`); they are rewritten to
/// PostgreSQL's (`$n`) once, when a statement is prepared (`PostgresPlaceholders`).
///
/// A lost connection (the server restarted, a failover, a network cut) fails the statement with
/// an error whose `isConnectionLost` is true; the connection is opened again (`PQreset`) at the
/// next use outside a transaction, so the daemon's next pass goes on by itself.
final class PostgresConnection {
    private(set) var connection: OpaquePointer
    let uri: String
    /// SQL text -> the name of its prepared statement on this connection.
    private var prepared: [String: String] = [:]
    private var nextName = 0
    /// The rows the last statement changed (INSERT/UPDATE/DELETE), as SQLite's `changes`.
    private(set) var changes = 0
    /// Set when an error said the connection is gone or unusable (a standby after a failover):
    /// reset before the next statement outside a transaction.
    var needsReset = false
    private var openCursors = 0

    /// The connection's settings beside the operator's URI, which overrides them where it sets
    /// them: libpq's `dbname` with a URI in it is expanded in place, so keywords before it are
    /// defaults and the URI's own win.
    ///
    /// - connect_timeout 10 s: an unreachable host is an error at start (`massiva: database ...:
    ///   timeout expired`), not a hang.
    /// - keepalives: a server that vanished without a word (a host lost) is noticed in about
    ///   25 s on a TCP connection, and tcp_user_timeout bounds a write that is never
    ///   acknowledged; the daemon's statement then fails as an outage instead of hanging.
    static let defaults: [(String, String)] = [
        ("connect_timeout", "10"), ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "30000"), ("fallback_application_name", "massiva"),
    ]

    /// Opened once, checked, and its session set up (`setUp`).
    init(uri: String) throws(DatabaseError) {
        self.uri = uri
        connection = try Self.connect(uri)
        // Not finished here when it fails: every property is set by now, so the instance is
        // released as any other and `deinit` finishes the connection (finished here too, it was
        // freed twice: glibc stopped the process, or its socket's number was closed again).
        try setUp()
    }

    deinit { PQfinish(connection) }

    private static func connect(_ uri: String) throws(DatabaseError) -> OpaquePointer {
        let keywords = defaults.map(\.0) + ["dbname"]
        let values = defaults.map(\.1) + [uri]
        let made: OpaquePointer? = withCStrings(keywords) { k in
            withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let made else { throw DatabaseError(code: 1, message: "out of memory", sql: nil, sqlState: "08001") }
        guard PQstatus(made) == CONNECTION_OK else {
            let message = Self.trimmed(String(cString: PQerrorMessage(made)))
            PQfinish(made)
            throw DatabaseError(code: 1, message: message, sql: nil, sqlState: "08001")
        }
        massiva_pq_silence_notices(made)
        return made
    }

    /// Session settings every connection (and every reconnection) gets.
    /// - lock_timeout 10 s: as SQLite's busy timeout, a writer that waits longer for another's
    ///   lock fails with an `isBusy` error and the engine tries again at its next pass.
    /// - UTC and ISO dates: nothing massiva stores depends on them (times are seconds since
    ///   1970 as DOUBLE PRECISION), but a session's odd settings must not either.
    private func setUp() throws(DatabaseError) {
        try execute("SET lock_timeout = '10s'; SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; SET standard_conforming_strings = on")
        if let idleTransactionLimit { try setIdleTransactionLimit(idleTransactionLimit) }
    }

    /// `idle_in_transaction_session_timeout`, in milliseconds, kept for every reconnection:
    /// see `Database.limitIdleTransactions`.
    private(set) var idleTransactionLimit: Int?

    func setIdleTransactionLimit(_ milliseconds: Int) throws(DatabaseError) {
        idleTransactionLimit = milliseconds
        try execute("SET idle_in_transaction_session_timeout = \(milliseconds)")
    }

    /// Opens the connection again after a loss: statements prepared before are gone with it.
    func resetIfNeeded() throws(DatabaseError) {
        guard needsReset || PQstatus(connection) != CONNECTION_OK else { return }
        prepared.removeAll()
        sentBehind.removeAll()
        preparedBehind.removeAll()
        pendingError = nil
        PQreset(connection)
        guard PQstatus(connection) == CONNECTION_OK else {
            throw DatabaseError(code: 1, message: Self.trimmed(String(cString: PQerrorMessage(connection))), sql: nil,
                                sqlState: "08006")
        }
        massiva_pq_silence_notices(connection)
        needsReset = false
        try setUp()
    }

    // MARK: Running statements

    /// Runs one or more statements without parameters (a migration's script, BEGIN/COMMIT).
    /// The writes sent behind (`sendBehind`) are answered first; when one of them failed, its
    /// error is thrown instead, except for a ROLLBACK, which then runs (the transaction is
    /// aborted and must end).
    func execute(_ sql: String) throws(DatabaseError) {
        do {
            try finishPipeline()
        } catch where sql.hasPrefix("ROLLBACK") {
            // The transaction's own error was thrown already, by the statement that met it.
        }
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// `execute("COMMIT")`, refused when the server ended the transaction otherwise: a COMMIT
    /// of a transaction in which a statement failed is answered `ROLLBACK`, without an error,
    /// and a write sent behind (`sendBehind`) may fail unseen until then.
    func commit() throws(DatabaseError) {
        try finishPipeline()
        let result = PQexec(connection, "COMMIT")
        defer { PQclear(result) }
        try check(result, sql: "COMMIT")
        let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        guard tag == "COMMIT" else {
            throw DatabaseError(code: 1, message: "the transaction was rolled back (\(tag)): a statement in it failed", sql: "COMMIT",
                                sqlState: "25P02")
        }
    }

    /// Runs `sql` with `bindings`, prepared once per SQL text; the result (rows or not) is the
    /// caller's to `PQclear`.
    func run(_ sql: String, _ bindings: [SQLValue]) throws(DatabaseError) -> OpaquePointer {
        try finishPipeline()
        let name = try statementName(for: sql)
        let result = Self.withParameters(bindings) { count, values, lengths, formats in
            PQexecPrepared(connection, name, count, values, lengths, formats, 0)
        }
        do {
            try check(result, sql: sql)
        } catch {
            PQclear(result)
            // A plan cached before a migration changed a table: prepare it again next time.
            if error.sqlState == "0A000" || error.sqlState == "26000" { prepared[sql] = nil }
            throw error
        }
        return result!
    }

    // MARK: Writes sent behind (libpq's pipeline mode)

    /// The statements sent in pipeline mode whose answers are not read yet, in order (their SQL,
    /// for an error's message; a PREPARE sent with them is one too).
    private var sentBehind: [String] = []
    /// The texts prepared in the pipeline under way: forgotten again if it fails.
    private var preparedBehind: [String] = []
    /// An error of a write sent behind, met where nothing could throw it (`changes`): thrown by
    /// the next statement.
    private var pendingError: DatabaseError?
    /// Writes sent behind at most before their answers are read: the server's answers (about
    /// 20 bytes each) wait in its buffers and the socket's meanwhile, far below either's size.
    static let behindLimit = 256

    var isPipelining: Bool { PQpipelineStatus(connection) != PQ_PIPELINE_OFF }

    /// Sends `sql` with `bindings` without waiting for its answer (libpq's pipeline mode): the
    /// server runs it while the caller goes on. Its answer is read, and its error thrown, by the
    /// next statement that waits for one (`run`, `execute`, `commit`, `changes`). For writes in
    /// a transaction whose answer nothing reads.
    func sendBehind(_ sql: String, _ bindings: [SQLValue]) throws(DatabaseError) {
        if let pendingError { self.pendingError = nil; throw pendingError }
        if sentBehind.count >= Self.behindLimit { try finishPipeline() }
        if !isPipelining {
            guard PQenterPipelineMode(connection) == 1 else { throw libpqFailure(sql: sql) }
        }
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            if prepared.count >= 1000 {
                try finishPipeline()
                return try sendBehind(sql, bindings)
            }
            nextName += 1
            name = "m\(nextName)"
            guard PQsendPrepare(connection, name, PostgresPlaceholders.rewrite(sql), 0, nil) == 1 else {
                throw libpqFailure(sql: sql)
            }
            prepared[sql] = name
            preparedBehind.append(sql)
            sentBehind.append(sql)
        }
        let sent = Self.withParameters(bindings) { count, values, lengths, formats in
            PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
        }
        guard sent == 1 else { throw libpqFailure(sql: sql) }
        sentBehind.append(sql)
        // Sent now, so the server works on it while the caller computes the next (libpq itself
        // flushes a pipeline's buffer only once it holds 64 KiB).
        guard PQflush(connection) == 0 else { throw libpqFailure(sql: sql) }
    }

    /// Reads the answers of the writes sent behind, ends pipeline mode, and throws the first
    /// error among them (the later ones were not run: the server skips to the pipeline's end).
    /// Nothing when none were sent.
    func finishPipeline() throws(DatabaseError) {
        if let pendingError { self.pendingError = nil; throw pendingError }
        guard isPipelining else { return }
        var firstError: DatabaseError?
        if PQpipelineSync(connection) != 1 {
            firstError = libpqFailure(sql: sentBehind.first ?? "")
        } else {
            var index = 0
            var nulls = 0
            reading: while true {
                guard let result = PQgetResult(connection) else {
                    // The end of one statement's answers; two in a row: nothing more will come
                    // (a broken connection), so no wait for ever.
                    nulls += 1
                    index += 1
                    if nulls > 1 || PQstatus(connection) != CONNECTION_OK {
                        firstError = firstError ?? lostInPipeline()
                        break reading
                    }
                    continue
                }
                nulls = 0
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_PIPELINE_SYNC:
                    break reading
                case PGRES_PIPELINE_ABORTED:
                    continue
                default:
                    do {
                        try check(result, sql: index < sentBehind.count ? sentBehind[index] : "")
                    } catch {
                        firstError = firstError ?? error
                    }
                }
            }
        }
        if firstError != nil { for sql in preparedBehind { prepared[sql] = nil } }
        sentBehind.removeAll(keepingCapacity: true)
        preparedBehind.removeAll()
        if PQexitPipelineMode(connection) != 1 {
            // Answers left unread (a broken connection): only a new connection is usable.
            needsReset = true
            firstError = firstError ?? lostInPipeline()
        }
        if let firstError { throw firstError }
    }

    /// The rows the last write changed, once the writes sent behind are answered; an error among
    /// them is kept for the next statement to throw (this cannot) and counts as no row changed.
    var changesAfterPipeline: Int {
        do {
            try finishPipeline()
        } catch {
            pendingError = error
            return 0
        }
        return changes
    }

    private func libpqFailure(sql: String) -> DatabaseError {
        let message = Self.trimmed(String(cString: PQerrorMessage(connection)))
        if PQstatus(connection) != CONNECTION_OK { needsReset = true }
        return DatabaseError(code: 1, message: message, sql: sql, sqlState: PQstatus(connection) == CONNECTION_OK ? nil : "08006")
    }

    private func lostInPipeline() -> DatabaseError {
        needsReset = true
        let message = Self.trimmed(String(cString: PQerrorMessage(connection)))
        return DatabaseError(code: 1, message: message.isEmpty ? "the connection ended before the pipeline's answers" : message,
                             sql: nil, sqlState: "08006")
    }

    private func statementName(for sql: String) throws(DatabaseError) -> String {
        if let name = prepared[sql] { return name }
        // Bounded: the store's statements are a few hundred texts; a program that made texts
        // from data would otherwise grow this (and the server's memory) without end.
        if prepared.count >= 1000 {
            try execute("DEALLOCATE ALL")
            prepared.removeAll()
        }
        nextName += 1
        let name = "m\(nextName)"
        let result = PQprepare(connection, name, PostgresPlaceholders.rewrite(sql), 0, nil)
        defer { PQclear(result) }
        try check(result, sql: sql)
        prepared[sql] = name
        return name
    }

    /// Fails with the server's message and SQLSTATE unless `result` is a success; marks the
    /// connection for a reset when the error says it is gone.
    private func check(_ result: OpaquePointer?, sql: String) throws(DatabaseError) {
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            // As SQLite's changes(): set by a statement that changes rows only, so the COMMIT
            // of a lone write's own transaction (or a SELECT, a PREPARE) does not reset it.
            if let result, let tag = PQcmdStatus(result).map({ String(cString: $0) }),
               ["INSERT ", "UPDATE ", "DELETE ", "MERGE ", "COPY "].contains(where: tag.hasPrefix) {
                changes = Int(String(cString: PQcmdTuples(result))) ?? 0
            }
            return
        default:
            var state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
            var message = result.map { String(cString: PQresultErrorMessage($0)) } ?? ""
            if message.isEmpty { message = String(cString: PQerrorMessage(connection)) }
            // No SQLSTATE: libpq's own failure, not the server's answer ("server closed the
            // connection unexpectedly", a broken socket): the connection is gone, whatever
            // PQstatus says yet.
            if state == nil || PQstatus(connection) != CONNECTION_OK {
                state = state ?? "08006"
                needsReset = true
            }
            let error = DatabaseError(code: 1, message: Self.trimmed(message), sql: sql, sqlState: state)
            if error.isConnectionLost { needsReset = true }
            throw error
        }
    }

    /// Runs `body` with a cursor name no open cursor of the connection has (`Database.each`,
    /// nested when its body runs another `each`). Named by depth, not by a running count, so
    /// the DECLARE and FETCH texts repeat and their prepared statements are reused.
    func withCursorName<R>(_ body: (String) throws -> R) rethrows -> R {
        openCursors += 1
        defer { openCursors -= 1 }
        return try body("massiva_cursor\(openCursors)")
    }

    // MARK: COPY FROM STDIN

    /// Runs `sql`, a `COPY ... FROM STDIN` in text format, and sends it the rows `body` writes;
    /// returns how many the server copied. Errors carry the server's SQLSTATE as `check` gives
    /// them (bad data: `22P02`, a NUL in a text: `22021`, a key taken: `23505`).
    ///
    /// Whatever fails, the connection leaves the COPY state before this returns: a `body` that
    /// throws ends the copy with `PQputCopyEnd`'s failure message (the server then discards
    /// every row sent) and its own error is thrown; a server error mid-copy (the rows already
    /// sent are discarded as well) is read once the rest is sent. The connection then takes the
    /// next statement (in a transaction: the caller's ROLLBACK or ROLLBACK TO, as after any
    /// failed statement).
    func copyIn(_ sql: String, _ body: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
        try finishPipeline()
        let start = PQexec(connection, sql)
        guard let start, PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            try check(start, sql: sql)
            // A statement that is no COPY FROM STDIN ran to its end: not what the caller meant.
            throw DatabaseError(code: 21, message: "not a COPY ... FROM STDIN", sql: sql)
        }
        PQclear(start)
        var writer = PostgresCopyWriter(connection: self, sql: sql)
        do {
            try body(&writer)
            try writer.flush()
        } catch {
            // Ends the COPY as failed (the server answers 57014, "COPY from stdin failed"), reads
            // that answer so the connection is idle again, and throws the body's own error.
            _ = PQputCopyEnd(connection, "massiva: copy abandoned")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(connection, nil) == 1 else { throw connectionFailure(sql: sql) }
        // The COPY's result, then nil: every result is read, or the next statement finds the
        // connection busy.
        let result = PQgetResult(connection)
        defer {
            PQclear(result)
            drainResults()
        }
        try check(result, sql: sql)
        return changes
    }

    /// Sends `count` bytes of COPY data (whole rows, as `PostgresCopyWriter` flushes them).
    fileprivate func putCopyData(_ bytes: UnsafeBufferPointer<UInt8>, sql: String) throws(DatabaseError) {
        guard bytes.count > 0 else { return }
        let sent = bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
        // Blocking connection: 1 (queued or sent) or -1 (the connection failed).
        guard sent == 1 else { throw connectionFailure(sql: sql) }
    }

    /// libpq's own failure while copying (a broken socket): the connection is reset before the
    /// next statement; the results it still holds are read first.
    private func connectionFailure(sql: String) -> DatabaseError {
        let message = Self.trimmed(String(cString: PQerrorMessage(connection)))
        drainResults()
        needsReset = true
        return DatabaseError(code: 1, message: message, sql: sql, sqlState: "08006")
    }

    /// Reads and drops every result left on the connection.
    private func drainResults() {
        while let result = PQgetResult(connection) {
            // A COPY still in progress would return its COPY_IN result again and again.
            let stillCopying = PQresultStatus(result) == PGRES_COPY_IN
            PQclear(result)
            if stillCopying { _ = PQputCopyEnd(connection, "massiva: copy abandoned") }
            if PQstatus(connection) != CONNECTION_OK { break }
        }
    }

    static func trimmed(_ message: String) -> String {
        var s = Substring(message)
        while let c = s.last, c == "\n" || c == " " { s.removeLast() }
        if s.hasPrefix("ERROR:  ") { s = s.dropFirst(8) }
        return String(s)
    }

    // MARK: Parameters

    /// Calls `body` with the C arrays of `bindings` as text parameters (bytea in its hex form);
    /// NULL is a null pointer.
    static func withParameters<R>(_ bindings: [SQLValue],
                                  _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R) -> R {
        if bindings.isEmpty { return body(0, nil, nil, nil) }
        var texts: [[CChar]?] = []
        texts.reserveCapacity(bindings.count)
        for value in bindings { texts.append(text(of: value)) }
        // Copies kept alive for the call: the pointers of a nested withUnsafeBufferPointer chain
        // would need recursion; one contiguous buffer is simpler.
        var total = 0
        for t in texts { total += t?.count ?? 0 }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, total))
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(texts.count)
        var offset = 0
        for t in texts {
            guard let t else { pointers.append(nil); continue }
            t.withUnsafeBufferPointer { (storage + offset).update(from: $0.baseAddress!, count: t.count) }
            pointers.append(UnsafePointer(storage + offset))
            offset += t.count
        }
        return pointers.withUnsafeBufferPointer { p in body(Int32(bindings.count), p.baseAddress, nil, nil) }
    }

    /// A value's text form, NUL-terminated, as PostgreSQL's input functions read it.
    static func text(of value: SQLValue) -> [CChar]? {
        switch value {
        case .null: return nil
        case .int(let v): return Array(String(v).utf8CString)
        case .double(let v):
            if v.isNaN { return Array("NaN".utf8CString) }
            if v.isInfinite { return Array((v > 0 ? "Infinity" : "-Infinity").utf8CString) }
            return Array(String(v).utf8CString)  // the shortest text that reads back as v
        case .text(let v):
            // PostgreSQL text cannot hold NUL: what follows one would be cut silently; refused
            // by the server instead (invalid byte sequence), as a clear error.
            return Array(v.utf8CString)
        case .blob(let bytes):
            var out: [CChar] = [92, 120]  // \x
            out.reserveCapacity(2 + 2 * bytes.count + 1)
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            for b in bytes {
                out.append(CChar(bitPattern: digits[Int(b >> 4)]))
                out.append(CChar(bitPattern: digits[Int(b & 15)]))
            }
            out.append(0)
            return out
        }
    }
}

/// The rows of a `COPY ... FROM STDIN` (`Database.copy`), written in PostgreSQL's text format:
/// columns separated by a tab, rows ended by a newline, NULL as `\N`, and in a value a
/// backslash, tab, newline or carriage return escaped by a backslash (`\\`, `\t`, `\n`,
/// `\r`), so no value can end a column, a row or the data early. A `bytea` value (`.blob`) is
/// its hex form (`\\x...` once escaped). Text may hold any Unicode but NUL, which PostgreSQL
/// text cannot hold: the server refuses it (SQLSTATE 22021).
///
/// Whole rows are buffered and sent in messages of about 64 KiB: the memory of a copy of any
/// size is the buffer.
public struct PostgresCopyWriter {
    fileprivate let connection: PostgresConnection
    fileprivate let sql: String
    private var buffer: [UInt8] = []
    private var columnsInRow = 0
    /// A message's size: large enough that libpq's per-call cost is nothing beside the rows,
    /// small enough to be no memory to speak of.
    static let flushBytes = 65_536

    fileprivate init(connection: PostgresConnection, sql: String) {
        self.connection = connection
        self.sql = sql
        buffer.reserveCapacity(Self.flushBytes + 4096)
    }

    /// Appends one column's value to the current row.
    public mutating func append(_ value: SQLValue) {
        if columnsInRow > 0 { buffer.append(9) }
        columnsInRow += 1
        switch value {
        case .null: buffer += [92, 78]  // \N
        case .int(let v): buffer += String(v).utf8
        case .text(let v): Self.escape(v.utf8, into: &buffer)
        case .double, .blob:
            // The text form `Database.run` binds (bytea's `\x` hex: one backslash to escape).
            let text = PostgresConnection.text(of: value)!.dropLast()  // without its NUL
            Self.escape(text.lazy.map { UInt8(bitPattern: $0) }, into: &buffer)
        }
    }

    /// Ends the current row; sends the rows buffered once they reach `flushBytes`.
    public mutating func endRow() throws(DatabaseError) {
        buffer.append(10)
        columnsInRow = 0
        if buffer.count >= Self.flushBytes { try flush() }
    }

    /// Appends `values` as one row.
    public mutating func row(_ values: [SQLValue]) throws(DatabaseError) {
        for value in values { append(value) }
        try endRow()
    }

    fileprivate mutating func flush() throws(DatabaseError) {
        let sql = sql, connection = connection
        let result: Result<Void, DatabaseError> = buffer.withUnsafeBufferPointer { bytes in
            do throws(DatabaseError) { try connection.putCopyData(bytes, sql: sql); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
        buffer.removeAll(keepingCapacity: true)
    }

    private static func escape<S: Sequence>(_ bytes: S, into buffer: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            switch b {
            case 92: buffer += [92, 92]  // \\
            case 9: buffer += [92, 116]  // \t
            case 10: buffer += [92, 110]  // \n
            case 13: buffer += [92, 114]  // \r
            default: buffer.append(b)
            }
        }
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// SQLite's placeholders in PostgreSQL's form: `?NNN` becomes `$NNN`, and each bare `?` the next
/// number after the highest seen so far (as SQLite numbers them). Text in quotes ('...', "...")
/// and `--` comments is left as it is.
enum PostgresPlaceholders {
    static func rewrite(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var highest = 0
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                // A quoted literal or identifier, doubled quotes included.
                out.append(c)
                i += 1
                while i < bytes.count {
                    out.append(bytes[i])
                    if bytes[i] == c {
                        if i + 1 < bytes.count && bytes[i + 1] == c { out.append(c); i += 2; continue }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            }
            if c == UInt8(ascii: "-") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-") {
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { out.append(bytes[i]); i += 1 }
                continue
            }
            if c == UInt8(ascii: "?") {
                var j = i + 1
                var number = 0
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") {
                    number = number * 10 + Int(bytes[j] - UInt8(ascii: "0"))
                    j += 1
                }
                if j == i + 1 { number = highest + 1 }
                highest = max(highest, number)
                out.append(UInt8(ascii: "$"))
                out += Array(String(number).utf8)
                i = j
                continue
            }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
