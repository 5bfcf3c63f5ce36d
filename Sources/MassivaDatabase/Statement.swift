import CSQLite

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue {
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int?) { self = value.map { .int($0) } ?? .null }
    public init(_ value: Double?) { self = value.map { .double($0) } ?? .null }
    public init(_ value: Bool) { self = .int(value ? 1 : 0) }
}

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A statement's current row, as decoders read it: on SQLite a prepared statement, owned and
/// cached by its `Database` (finalized when released); on PostgreSQL a result's row
/// (`PostgresRows`).
public final class Statement {
    let raw: OpaquePointer!
    unowned let database: Database
    let sql: String
    /// Being stepped by `Database.each` or a query: `prepare` hands out another for the same SQL.
    var inUse = false
    /// The columns a decoder reads by name (`column(_:)`).
    private let lookup: ColumnLookup!
    /// PostgreSQL: the rows of a result, and which one is current. Nil on SQLite.
    let rows: PostgresRows?

    init(_ raw: OpaquePointer, database: Database, sql: String) {
        self.raw = raw
        self.database = database
        self.sql = sql
        lookup = ColumnLookup(columnCount: sqlite3_column_count(raw))
        rows = nil
    }

    init(rows: PostgresRows, database: Database, sql: String) {
        raw = nil
        self.database = database
        self.sql = sql
        lookup = nil
        self.rows = rows
    }

    deinit { if raw != nil { sqlite3_finalize(raw) } }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
        lookup.startRow()
    }

    /// Binds `values` to parameters 1...n.
    func bind(_ values: [SQLValue]) throws(DatabaseError) {
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(raw, index)
            case .int(let v): rc = sqlite3_bind_int64(raw, index, Int64(v))
            case .double(let v): rc = sqlite3_bind_double(raw, index, v)
            case .text(let v):
                var text = v
                rc = text.withUTF8 { sqlite3_bind_text(raw, index, UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self), Int32($0.count), SQLITE_TRANSIENT) }
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(raw, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), SQLITE_TRANSIENT) }
            }
            guard rc == SQLITE_OK else { throw DatabaseError(code: rc, message: database.lastMessage, sql: sql) }
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws(DatabaseError) -> Bool {
        let rc = sqlite3_step(raw)
        if rc == SQLITE_ROW { lookup.startRow(); return true }
        if rc == SQLITE_DONE { sqlite3_reset(raw); return false }
        let message = database.lastMessage
        sqlite3_reset(raw)
        throw DatabaseError(code: rc, message: message, sql: sql)
    }

    /// The index of the result column named `name`: its `AS` alias, or the column's own name
    /// for a plain column reference (SQLite names other expressions by their text, so a query
    /// decoded by name gives each of them an alias).
    ///
    /// Decoding by name means a reordered or widened SELECT cannot make a decoder read the
    /// wrong column. The name is a literal of the program (`StaticString`), never data: one the
    /// statement does not have is a mistake in the program, so it stops it, naming the column
    /// and the SQL.
    public func column(_ name: StaticString) -> Int32 {
        if let rows {
            guard let column = rows.column(name) else { preconditionFailure("no result column \"\(name)\" in: \(sql)") }
            return column
        }
        guard let column = lookup.column(name, in: raw) else { preconditionFailure("no result column \"\(name)\" in: \(sql)") }
        return column
    }

    public func int(_ column: Int32) -> Int {
        if let rows { return rows.int(column) }
        return Int(sqlite3_column_int64(raw, column))
    }
    public func double(_ column: Int32) -> Double {
        if let rows { return rows.double(column) }
        return sqlite3_column_double(raw, column)
    }
    public func bool(_ column: Int32) -> Bool {
        if let rows { return rows.bool(column) }
        return sqlite3_column_int64(raw, column) != 0
    }
    public func isNull(_ column: Int32) -> Bool {
        if let rows { return rows.isNull(column) }
        return sqlite3_column_type(raw, column) == SQLITE_NULL
    }

    public func text(_ column: Int32) -> String {
        if let rows { return rows.text(column) }
        guard let p = sqlite3_column_text(raw, column) else { return "" }
        let n = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    /// The column's value as it is stored, typed by what the engine holds rather than by what a
    /// decoder expects: on SQLite by the value's storage class (a column's declared type does
    /// not bind it), on PostgreSQL by the result column's type (integers `.int`, `real` and
    /// `double precision` `.double`, `bytea` `.blob`, `boolean` `.int` 0/1, anything else its
    /// text). Nothing is repaired on the way: SQLite text that is not valid UTF-8 comes as its
    /// bytes (`.blob`), where `text(_:)` would replace what does not decode. For a copy between
    /// engines that must be exact (`DatabaseCopy`).
    public func value(_ column: Int32) -> SQLValue {
        if let rows { return rows.typedValue(column) }
        switch sqlite3_column_type(raw, column) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(Int(sqlite3_column_int64(raw, column)))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(raw, column))
        case SQLITE_TEXT:
            let n = Int(sqlite3_column_bytes(raw, column))
            guard n > 0, let p = sqlite3_column_text(raw, column) else { return .text("") }
            let bytes = UnsafeBufferPointer(start: p, count: n)
            return String(validating: bytes, as: UTF8.self).map { .text($0) } ?? .blob(Array(bytes))
        default: return .blob(blob(column))
        }
    }
    public func optionalDouble(_ column: Int32) -> Double? { isNull(column) ? nil : double(column) }

    public func blob(_ column: Int32) -> [UInt8] {
        if let rows { return rows.blob(column) }
        let n = Int(sqlite3_column_bytes(raw, column))
        guard n > 0, let p = sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    // The same, by column name (see `column(_:)`).

    public func int(_ name: StaticString) -> Int { int(column(name)) }
    public func double(_ name: StaticString) -> Double { double(column(name)) }
    public func bool(_ name: StaticString) -> Bool { bool(column(name)) }
    public func isNull(_ name: StaticString) -> Bool { isNull(column(name)) }
    public func text(_ name: StaticString) -> String { text(column(name)) }
    public func optionalText(_ name: StaticString) -> String? { optionalText(column(name)) }
    public func optionalDouble(_ name: StaticString) -> Double? { optionalDouble(column(name)) }
    public func blob(_ name: StaticString) -> [UInt8] { blob(column(name)) }
}
