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
}
