import Foundation
import Testing
import MassivaDatabase

@Suite struct DatabaseTests {
    struct Boom: Error {}

    func database() throws -> (Database, String) {
        let directory = NSTemporaryDirectory() + "massiva-db-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try Database(path: directory + "/t.db")
        try db.execute("CREATE TABLE t(v TEXT)")
        return (db, directory)
    }

    func values(_ db: Database) throws -> [String] {
        try db.query("SELECT v FROM t ORDER BY v", []) { $0.text(0) }
    }

    /// A group of requests: one failing inner part is undone alone, the rest commits.
    @Test func aFailingNestedTransactionIsUndoneAloneAndTheOuterCommits() throws {
        let (db, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.transaction {
            try db.transaction { try db.run("INSERT INTO t VALUES('a')") }
            do {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES('b')")
                    throw Boom()
                }
            } catch is Boom {}
            try db.transaction { try db.run("INSERT INTO t VALUES('c')") }
        }
        #expect(try values(db) == ["a", "c"])
    }

    @Test func aFailingOuterTransactionUndoesEverything() throws {
        let (db, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.transaction { try db.run("INSERT INTO t VALUES('a')") }
                throw Boom()
            }
        }
        #expect(try values(db).isEmpty)
        // And the connection is usable afterwards.
        try db.transaction { try db.run("INSERT INTO t VALUES('z')") }
        #expect(try values(db) == ["z"])
    }

    @Test func eachStreamsEveryRowAndInsertWritesManyRows() throws {
        let (db, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rows = (0..<75).map { [SQLValue.text(String(format: "%03d", $0))] }
        try db.transaction { try db.insert(into: "t", columns: "v", columnCount: 1, rows: rows) }
        var seen: [String] = []
        try db.each("SELECT v FROM t ORDER BY v", []) { seen.append($0.text(0)) }
        #expect(seen == (0..<75).map { String(format: "%03d", $0) })
    }

    /// A query run from inside `each` with the same SQL gets a statement of its own: it used to
    /// get the outer one back from the cache, reset, and the outer loop started again for ever.
    @Test func aNestedQueryOfTheSameSQLLeavesTheOuterOneAlone() throws {
        let (db, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.run("INSERT INTO t VALUES('a'), ('b'), ('c')")
        let sql = "SELECT v FROM t ORDER BY v"
        var pairs: [String] = []
        try db.each(sql) { outer in
            let o = outer.text(0)
            try db.each(sql) { pairs.append(o + $0.text(0)) }
            #expect(try db.queryOne(sql) { $0.text(0) } == "a")
            #expect(try db.query(sql) { $0.text(0) } == ["a", "b", "c"])
        }
        #expect(pairs == ["aa", "ab", "ac", "ba", "bb", "bc", "ca", "cb", "cc"])
        // The cached statement still works afterwards.
        #expect(try values(db) == ["a", "b", "c"])
    }

    /// A decoder reads columns by name: the same decoder reads the same values whatever the
    /// order of the SELECT, aliases name expressions, and NULL stays nil.
    @Test func columnsAreReadByNameWhateverTheirOrder() throws {
        let (db, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.execute("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, note TEXT)")
        try db.run("INSERT INTO p VALUES(1, 'uno', 1.5, NULL), (2, 'due', NULL, 'x')")
        struct P: Equatable { var id: Int, name: String, score: Double?, note: String?, double: Int }
        func decode(_ s: Statement) -> P {
            P(id: s.int("id"), name: s.text("name"), score: s.optionalDouble("score"), note: s.optionalText("note"),
              double: s.int("double"))
        }
        let expected = [P(id: 1, name: "uno", score: 1.5, note: nil, double: 2), P(id: 2, name: "due", score: nil, note: "x", double: 4)]
        #expect(try db.query("SELECT id, name, score, note, id * 2 AS double FROM p ORDER BY id", [], decode) == expected)
        #expect(try db.query("SELECT id * 2 AS double, note, score, name, id FROM p ORDER BY id", [], decode) == expected)
        #expect(try db.query("SELECT p.note, p.id, 'extra' AS other, p.name, id + id AS double, p.score FROM p ORDER BY id", [], decode) == expected)
    }

    /// The lookups a decoder made in one row are reused in the next only when it asks for the
    /// same names: a decoder that asks in another order, or for other columns, still gets
    /// the right ones.
    @Test func aDecoderAskingInAnotherOrderEachRowGetsTheRightColumns() throws {
        let (db, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.execute("CREATE TABLE q(a TEXT, b TEXT, c TEXT)")
        try db.run("INSERT INTO q VALUES('a1', 'b1', 'c1'), ('a2', 'b2', 'c2'), ('a3', 'b3', 'c3'), ('a4', 'b4', 'c4')")
        var row = 0
        let read = try db.query("SELECT a, b, c FROM q ORDER BY a", []) { s -> String in
            row += 1
            switch row % 3 {
            case 0: return s.text("c") + s.text("a")
            case 1: return s.text("a") + s.text("b") + s.text("c")
            default: return s.text("b") + s.text("a") + s.text("a")
            }
        }
        #expect(read == ["a1b1c1", "b2a2a2", "c3a3", "a4b4c4"])
        // The same cached statement, read by another decoder.
        #expect(try db.query("SELECT a, b, c FROM q ORDER BY a", []) { $0.text("c") } == ["c1", "c2", "c3", "c4"])
    }

    /// A name the SELECT does not have is a mistake in the program: it stops, never reads
    /// another column in its place.
    @Test func aColumnTheStatementDoesNotHaveStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            // In memory: the process ends here, with nothing to remove afterwards.
            let db = try Database(path: ":memory:")
            try db.execute("CREATE TABLE t(v TEXT); INSERT INTO t VALUES('a')")
            _ = try db.query("SELECT v FROM t", []) { $0.text("w") }
        }
    }
}
