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
}
