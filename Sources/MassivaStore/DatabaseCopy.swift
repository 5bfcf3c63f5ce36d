import MassivaDatabase
import MassivaDomain

/// `massiva database copy --to URI`: a spool's embedded SQLite database copied, whole, into an
/// empty PostgreSQL database, and verified there before anything of it is committed.
///
/// One transaction on the target holds it all: the schema (PostgreSQL's migrations, the same
/// numbers as SQLite's), every table's rows (`COPY ... FROM STDIN`, streamed: a table of any
/// size is read row by row from SQLite and sent in messages of about 64 KiB), the identity
/// columns set past the ids SQLite has used, and the verification. A failure anywhere, a
/// mismatch, or the process killed (the server aborts the transaction of a connection that
/// drops) leaves the target as it was: empty. The source is read under SQLite's write lock
/// (`BEGIN IMMEDIATE`), so another command cannot change it while it is copied and the copy is
/// the state of one moment.
///
/// The tables are the source's (every table of `sqlite_master` but SQLite's own), each of which
/// the migrations must have made on the target with the same columns in the same order: a
/// difference is a `schemaDifference`, before any row is copied. They are copied parents first
/// (the target's foreign keys are checked as rows arrive) with their triggers disabled: a copy
/// is not an event, so the metrics' tallies are not counted again from the requests copied (they
/// are copied as they are), and the audit trail's append-only triggers, which refuse UPDATE,
/// DELETE and TRUNCATE only, stand again once the copy is in (checked before commit).
///
/// Verification: for each table the rows are counted and hashed (SHA-256) on both sides by the
/// same function (`tally`), over the rows in primary-key order, each value rendered canonically
/// (`render`): its kind, then an integer as 8 bytes, a double as its 8 bytes of IEEE 754 (so 0.1
/// is compared exactly, not through a decimal text), a text or a blob as its length and bytes;
/// NULL is a kind of its own, so it never equals an empty text. Values are read as stored
/// (`Statement.value`), and a value that would not come back as it is (a real in an integer
/// column, a NUL in a text, text that is not UTF-8) stops the copy naming its row, instead of
/// being changed on the way.
///
/// The cost, measured on the 2-core build machine (debug build, 300,000 registry PODs): the copy
/// 2.7 s, the verification 15 s, nearly all of it hashing (reading both sides alone: 1.3 s).
/// Optimised (`swiftc -O`), `SHA256` takes 1.2 s a million rows of 150 bytes: a registry of 32
/// million PODs adds about 40 s a side to its copy.
public final class DatabaseCopy {
    public let source: Database
    public let target: Database
    /// Run on the target inside the copy's transaction after the rows are in and before they
    /// are verified: the tests' way to alter what the copy wrote.
    var beforeVerifying: ((Database) throws -> Void)?

    /// A copy from `source`, the embedded SQLite database (its schema current: opened by
    /// `Schema.open`), into `target`, a PostgreSQL database.
    public init(from source: Database, to target: Database) throws {
        guard source.engine == .sqlite, target.engine == .postgresql else {
            throw DatabaseCopyError.engines(source: source.path, target: target.path)
        }
        self.source = source
        self.target = target
    }

    /// Copies and verifies; returns each table's count and checksum, in name order, as both
    /// databases have them. `progress` is told each step (`copying pods`, `pods: 32000000 rows copied`),
    /// for a copy that can take a while.
    public func run(progress: (String) -> Void = { _ in }) throws -> [TableTally] {
        let version = try Schema.version(of: source)
        guard version == Schema.currentVersion else {
            throw DatabaseCopyError.sourceVersion(found: version, expected: Schema.currentVersion)
        }
        let tables = try sourceTables()
        return try source.transaction {
            try target.transaction { () throws -> [TableTally] in
                // The shortest text that reads back as the same double, whatever the server's
                // default (0 would round to 15 digits: 0.1 + 0.2 would not compare equal).
                try target.execute("SET LOCAL extra_float_digits = 1")
                let existing = try targetRelations()
                let ours = Set(tables.map(\.name)).union(["schema_version"])
                let found = existing.filter(ours.contains).sorted()
                guard found.isEmpty else { throw DatabaseCopyError.targetNotEmpty(target: target.path, found: found) }
                progress("creating the schema (migrations 1 to \(Schema.currentVersion))")
                try Schema.migrate(target)
                let made = try targetRelations(tablesOnly: true).subtracting(existing).subtracting(["schema_version"])
                guard made == Set(tables.map(\.name)) else {
                    throw DatabaseCopyError.schemaDifference(
                        "the tables differ: SQLite has \(tables.map(\.name).sorted().joined(separator: ", ")); "
                        + "PostgreSQL's migrations made \(made.sorted().joined(separator: ", "))")
                }
                let described = try tables.map(describe)
                for table in try parentsFirst(described) {
                    progress("copying \(table.name)")
                    try target.execute("ALTER TABLE \(quoted(table.name)) DISABLE TRIGGER USER")
                    let copied = try copyRows(table, progress: progress)
                    try target.execute("ALTER TABLE \(quoted(table.name)) ENABLE TRIGGER USER")
                    progress("\(table.name): \(copied) rows copied")
                }
                try setIdentities(described)
                try beforeVerifying?(target)
                var tallies: [TableTally] = []
                for table in described {
                    progress("verifying \(table.name)")
                    let copied = try Self.tally(table, in: source)
                    let written = try Self.tally(table, in: target)
                    guard copied == written else { throw DatabaseCopyError.mismatch(source: copied, target: written) }
                    tallies.append(copied)
                }
                let disabled = try target.query("""
                    SELECT c.relname || '.' || t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                    WHERE NOT t.tgisinternal AND t.tgenabled <> 'O' AND c.relnamespace = current_schema()::regnamespace
                    """) { $0.text("name") }
                guard disabled.isEmpty else {
                    throw DatabaseCopyError.schemaDifference("triggers left disabled: \(disabled.joined(separator: ", "))")
                }
                return tallies
            }
        }
    }

    // MARK: The tables

    /// A table as it is copied and verified: its columns in order, with the kind of value the
    /// target stores in each, and its primary key's columns (the order of `tally`).
    struct Table: Equatable {
        var name: String
        var columns: [Column]
        var key: [String]

        /// Whether a row may be large (a request's uploaded bytes): PostgreSQL's cursor then
        /// fetches a few rows at a time, not 500.
        var hasBlob: Bool { columns.contains { $0.kind == .blob } }
    }

    struct Column: Equatable {
        var name: String
        var kind: Kind
    }

    /// The kinds of value massiva's columns hold: SQLite's INTEGER, REAL, TEXT and BLOB, and
    /// PostgreSQL's BIGINT/INTEGER, DOUBLE PRECISION, TEXT and BYTEA (`Schema+PostgreSQL`).
    enum Kind: String, Equatable {
        case integer, real, text, blob
    }

    /// The source's tables (SQLite's own, `sqlite_sequence` and `sqlite_stat*`, aside), by name,
    /// with their columns and primary keys; the columns' kinds are filled in from the target.
    private func sourceTables() throws -> [Table] {
        let names = try source.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name", []) { $0.text("name") }
        return try names.map { name in
            // Identifiers go into the SQL text (COPY takes no parameters for them): only the plain
            // names massiva's schema has.
            guard Self.isPlainName(name) else { throw DatabaseCopyError.schemaDifference("a table named \"\(name)\"") }
            let columns = try source.query("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", [.text(name)]) {
                (name: $0.text("name"), key: $0.int("pk"))
            }
            for column in columns where !Self.isPlainName(column.name) {
                throw DatabaseCopyError.schemaDifference("a column named \"\(column.name)\" in \(name)")
            }
            let key = columns.filter { $0.key > 0 }.sorted { $0.key < $1.key }.map(\.name)
            guard !key.isEmpty else { throw DatabaseCopyError.schemaDifference("\(name) has no primary key to order its rows by") }
            return Table(name: name, columns: columns.map { Column(name: $0.name, kind: .text) }, key: key)
        }
    }

    /// `table` with the kinds of the target's columns, which must be the source's, in order.
    private func describe(_ table: Table) throws -> Table {
        let columns = try target.query("""
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position
            """, [.text(table.name)]) { (name: $0.text("column_name"), type: $0.text("data_type")) }
        guard columns.map(\.name) == table.columns.map(\.name) else {
            throw DatabaseCopyError.schemaDifference(
                "\(table.name)'s columns differ: SQLite (\(table.columns.map(\.name).joined(separator: ", "))), "
                + "PostgreSQL (\(columns.map(\.name).joined(separator: ", ")))")
        }
        var described = table
        described.columns = try columns.map { column in
            let kind: Kind
            switch column.type {
            case "bigint", "integer", "smallint": kind = .integer
            case "double precision", "real": kind = .real
            case "text", "character varying", "character": kind = .text
            case "bytea": kind = .blob
            default:
                throw DatabaseCopyError.schemaDifference("\(table.name).\(column.name) is \(column.type), a type the copy does not know")
            }
            return Column(name: column.name, kind: kind)
        }
        return described
    }

    /// Every relation (table, view, sequence, index...) in the target's current schema by name,
    /// or its tables only: from `pg_class`, which lists them whoever owns them
    /// (`information_schema` shows only those the user may use).
    private func targetRelations(tablesOnly: Bool = false) throws -> Set<String> {
        Set(try target.query(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                + (tablesOnly ? " AND relkind IN ('r', 'p')" : ""), []) { $0.text("relname") })
    }

    /// `tables` ordered so that a table comes after those its foreign keys name (on the target),
    /// otherwise by name.
    private func parentsFirst(_ tables: [Table]) throws -> [Table] {
        let references = try target.query("""
            SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint c
            JOIN pg_class ch ON ch.oid = c.conrelid JOIN pg_class pa ON pa.oid = c.confrelid
            WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
            """, []) { (child: $0.text("child"), parent: $0.text("parent")) }
        var remaining = tables.sorted { $0.name < $1.name }
        var placed: Set<String> = []
        var ordered: [Table] = []
        while !remaining.isEmpty {
            guard let next = remaining.firstIndex(where: { table in
                references.allSatisfy { $0.child != table.name || $0.parent == table.name || placed.contains($0.parent) }
            }) else {
                throw DatabaseCopyError.schemaDifference("foreign keys in a cycle: \(remaining.map(\.name).joined(separator: ", "))")
            }
            let table = remaining.remove(at: next)
            placed.insert(table.name)
            ordered.append(table)
        }
        return ordered
    }

    // MARK: Copying

    /// Streams `table`'s rows from SQLite into the target's `COPY`; returns how many went in.
    /// A large table (the registry's) says how far it is every million rows.
    private func copyRows(_ table: Table, progress: (String) -> Void) throws -> Int {
        let select = "SELECT \(table.columns.map { quoted($0.name) }.joined(separator: ", ")) FROM \(quoted(table.name))"
        var sent = 0
        return try target.copy(into: quoted(table.name), columns: table.columns.map { quoted($0.name) }) { writer in
            try source.each(select, []) { row in
                for (i, column) in table.columns.enumerated() {
                    writer.append(try Self.conform(row, Int32(i), column, of: table))
                }
                try writer.endRow()
                sent += 1
                if sent % 1_000_000 == 0 { progress("\(table.name): \(sent) rows sent") }
            }
        }
    }

    /// Sets every identity column's sequence past the highest id SQLite has used: the table's
    /// highest, or for an AUTOINCREMENT table (requests, audit, outbox) the highest it ever gave,
    /// kept in `sqlite_sequence` (a deleted last request's id is not given again).
    private func setIdentities(_ tables: [Table]) throws {
        let hasSequences = try source.queryOne(
            "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'", []) { $0.int("n") } == 1
        for table in tables {
            let identities = try target.query("""
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = ? AND is_identity = 'YES'
                """, [.text(table.name)]) { $0.text("column_name") }
            for column in identities {
                let highest = try target.queryOne(
                    "SELECT coalesce(max(\(quoted(column))), 0) AS highest FROM \(quoted(table.name))", []) { $0.int("highest") } ?? 0
                let given = hasSequences
                    ? try source.queryOne("SELECT seq FROM sqlite_sequence WHERE name = ?", [.text(table.name)]) { $0.int("seq") } ?? 0
                    : 0
                let last = max(highest, given)
                // A sequence starts at 1: an empty table's is left as it is.
                guard last > 0 else { continue }
                _ = try target.queryOne("SELECT setval(pg_get_serial_sequence(?, ?), ?) AS last", [
                    .text(quoted(table.name)), .text(column), .int(last),
                ]) { $0.int("last") }
            }
        }
    }

    // MARK: Values and checksums

    /// One table's row count and SHA-256 checksum, as `tally` computes them on either engine.
    public struct TableTally: Sendable, Equatable {
        public let table: String
        public let rows: Int
        /// The SHA-256 of the rows, in hex.
        public let checksum: String
    }

    /// `table`'s rows counted and hashed in primary-key order, each value through `conform` and
    /// `render`: the same bytes from SQLite and from PostgreSQL when they hold the same values.
    /// Text keys are ordered by their bytes on both (SQLite's BINARY, PostgreSQL's "C").
    static func tally(_ table: Table, in database: Database) throws -> TableTally {
        let kinds = Dictionary(uniqueKeysWithValues: table.columns.map { ($0.name, $0.kind) })
        let order = table.key.map { name in
            kinds[name] == .text ? quoted(name) + database.dialect(sqlite: " COLLATE BINARY", postgresql: " COLLATE \"C\"") : quoted(name)
        }
        let sql = "SELECT \(table.columns.map { quoted($0.name) }.joined(separator: ", ")) FROM \(quoted(table.name)) "
            + "ORDER BY \(order.joined(separator: ", "))"
        var hash = SHA256()
        var rows = 0
        var bytes: [UInt8] = []
        // 4 rows of uploads at a time (at most 4 × max_file_size in memory); otherwise 500.
        try database.each(sql, [], fetchingAtMost: table.hasBlob ? 4 : 500) { row in
            bytes.removeAll(keepingCapacity: true)
            for (i, column) in table.columns.enumerated() {
                render(try conform(row, Int32(i), column, of: table), into: &bytes)
            }
            hash.update(bytes)
            rows += 1
        }
        return TableTally(table: table.name, rows: rows, checksum: SHA256.hex(hash.finish()))
    }

    /// Column `index` of `row` as the target stores it, or a `DatabaseCopyError.unfitValue`
    /// naming the row when it would not come back the same (see `fitting`).
    private static func conform(_ row: Statement, _ index: Int32, _ column: Column, of table: Table) throws -> SQLValue {
        let value = row.value(index)
        switch fitting(value, column.kind) {
        case .success(let fitted): return fitted
        case .failure(let reason):
            let key = table.key.map { name -> String in
                let position = Int32(table.columns.firstIndex { $0.name == name }!)
                return "\(name) = \(shown(row.value(position)))"
            }
            throw DatabaseCopyError.unfitValue(table: table.name, column: column.name, row: key.joined(separator: ", "),
                                               reason: reason.description)
        }
    }

    struct Unfit: Error, CustomStringConvertible { let description: String }

    /// `value` as a column of `kind` holds it, when it comes back the same: SQLite stores what it
    /// is given whatever the column's type (affinity converts numbers only), PostgreSQL does not.
    /// An integer in a REAL column is its double when exactly one; text in a BLOB column its
    /// UTF-8 bytes; anything else of another kind, and a text with NUL (PostgreSQL's text
    /// cannot hold one), is unfit.
    static func fitting(_ value: SQLValue, _ kind: Kind) -> Result<SQLValue, Unfit> {
        switch (kind, value) {
        case (_, .null), (.integer, .int), (.real, .double), (.blob, .blob): return .success(value)
        case (.real, .int(let v)):
            guard let exact = Double(exactly: v) else { return .failure(Unfit(description: "the integer \(v) has no exact double")) }
            return .success(.double(exact))
        case (.text, .text(let v)):
            if v.utf8.contains(0) { return .failure(Unfit(description: "a NUL character, which PostgreSQL's text cannot hold")) }
            return .success(value)
        case (.blob, .text(let v)): return .success(.blob(Array(v.utf8)))
        case (.text, .blob): return .failure(Unfit(description: "text that is not valid UTF-8 (or a blob)"))
        default: return .failure(Unfit(description: "\(shown(value)) where \(kind.rawValue) values belong"))
        }
    }

    /// A value for an error message: a key, or what was found where it does not belong.
    static func shown(_ value: SQLValue) -> String {
        switch value {
        case .null: "NULL"
        case .int(let v): "\(v)"
        case .double(let v): "the real number \(v)"
        case .text(let v): "'\(v.count > 60 ? String(v.prefix(60)) + "..." : v)'"
        case .blob(let v): "a blob of \(v.count) bytes"
        }
    }

    /// The canonical bytes of one value, appended to `bytes`: a kind byte (0 NULL, 1 integer,
    /// 2 double, 3 text, 4 blob), then an integer as 8 bytes little-endian, a double as the 8
    /// bytes of its IEEE 754 pattern, a text (UTF-8) or blob as its length in 8 bytes and its
    /// bytes. Self-delimiting: no two rows of different values render the same bytes.
    static func render(_ value: SQLValue, into bytes: inout [UInt8]) {
        func append(_ number: UInt64) {
            withUnsafeBytes(of: number.littleEndian) { bytes.append(contentsOf: $0) }
        }
        switch value {
        case .null: bytes.append(0)
        case .int(let v):
            bytes.append(1)
            append(UInt64(bitPattern: Int64(v)))
        case .double(let v):
            bytes.append(2)
            append(v.bitPattern)
        case .text(let v):
            bytes.append(3)
            append(UInt64(v.utf8.count))
            bytes.append(contentsOf: v.utf8)
        case .blob(let v):
            bytes.append(4)
            append(UInt64(v.count))
            bytes.append(contentsOf: v)
        }
    }

    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first >= 97 && first <= 122) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
    }
}

/// An identifier in double quotes (the same on SQLite and PostgreSQL): `rows`, `key` and
/// `value` are words of SQL.
private func quoted(_ name: String) -> String { "\"" + name + "\"" }

/// Why `DatabaseCopy` copied nothing.
public enum DatabaseCopyError: Error, CustomStringConvertible, Sendable {
    /// The target already has tables of massiva (or its `schema_version`): nothing was written.
    case targetNotEmpty(target: String, found: [String])
    /// A table's rows differ once copied: the transaction was rolled back.
    case mismatch(source: DatabaseCopy.TableTally, target: DatabaseCopy.TableTally)
    /// A stored value that the target would not hold as it is.
    case unfitValue(table: String, column: String, row: String, reason: String)
    /// The two schemas do not correspond (a program error: `Tests/system/pg-schema-check` keeps
    /// them alike).
    case schemaDifference(String)
    /// The source is not at this binary's schema version.
    case sourceVersion(found: Int, expected: Int)
    /// Not SQLite into PostgreSQL.
    case engines(source: String, target: String)

    public var description: String {
        switch self {
        case .targetNotEmpty(let target, let found):
            "\(target) is not empty: it has \(found.joined(separator: ", ")); the copy goes only into a database without "
                + "massiva's tables (create a new one: createdb -O OWNER NAME)"
        case .mismatch(let source, let target):
            "table \(source.table) differs once copied: SQLite has \(source.rows) rows (SHA-256 \(source.checksum)), "
                + "PostgreSQL \(target.rows) (SHA-256 \(target.checksum)); nothing was committed"
        case .unfitValue(let table, let column, let row, let reason):
            "\(table).\(column) of the row \(row) holds \(reason): PostgreSQL would not keep it as it is; nothing was committed"
        case .schemaDifference(let what):
            "the SQLite and PostgreSQL schemas do not correspond: \(what)"
        case .sourceVersion(let found, let expected):
            "the SQLite database is at schema version \(found), this binary's is \(expected)"
        case .engines(let source, let target):
            "a copy goes from SQLite into PostgreSQL, not from \(source) into \(target)"
        }
    }
}
