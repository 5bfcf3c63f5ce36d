import Testing
import MassivaDatabase
import MassivaTestSupport

/// `Database.copy` (COPY FROM STDIN) on a real PostgreSQL 15: what goes in comes back byte for
/// byte, and a failure at any point copies nothing and leaves the connection working.
@Suite struct PostgresCopyTests {
    struct Boom: Error {}

    func database() throws -> Database {
        let db = try Database(location: .postgresql(uri: try PostgresCluster.shared().createDatabase()))
        try db.execute("CREATE TABLE c(k INTEGER PRIMARY KEY, s TEXT, d DOUBLE PRECISION, b BYTEA)")
        return db
    }

    func count(_ db: Database) throws -> Int { try db.queryOne("SELECT count(*) FROM c", []) { $0.int(0) } ?? -1 }

    /// Every character COPY's text format gives a meaning to, in every position of a value.
    static let hostile: [String?] = [
        "\t", "\n", "\r", "\r\n", "\\", "\\\\", "\\N", "\\.", "\\t", "a\tb\nc\rd\\e", "\\x41", "'quoted' \"double\"",
        "", " ", nil, "tab at the end\t", "\\", "\nstarts with a newline", "Perù — città ☃︎ 𝄞 👩🏽‍💻 e\u{301}", "\u{7f}\u{1}\u{1b}[0m",
        String(repeating: "\\\t\n", count: 30_000),  // one value larger than a message (64 KiB)
    ]

    @Test func hostileValuesComeBackAsTheyWent() throws {
        let db = try database()
        let blob: [UInt8] = Array(0...255) + [92, 9, 10, 13, 0]
        let copied = try db.copy(into: "c", columns: ["k", "s", "d", "b"]) { rows in
            for (k, s) in Self.hostile.enumerated() {
                try rows.row([.int(k), SQLValue(s), .double(Double(k) / 3 + 0.1), k == 0 ? .blob(blob) : .null])
            }
        }
        #expect(copied == Self.hostile.count)
        let back = try db.query("SELECT k, s, d, b FROM c ORDER BY k", []) { s in
            (s.int("k"), s.isNull("s") ? nil : s.text("s"), s.double("d"), s.isNull("b") ? nil : s.blob("b"))
        }
        #expect(back.count == Self.hostile.count)
        for (k, row) in back.enumerated() {
            #expect(row.0 == k)
            #expect(row.1 == Self.hostile[k], "row \(k)")
            #expect(row.2 == Double(k) / 3 + 0.1)
            #expect(row.3 == (k == 0 ? blob : nil))
        }
        // An empty string is not NULL, and NULL is not the text "\N".
        #expect(try db.queryOne("SELECT count(*) FROM c WHERE s IS NULL", []) { $0.int(0) } == 1)
        #expect(try db.queryOne("SELECT count(*) FROM c WHERE s = ''", []) { $0.int(0) } == 1)
        #expect(try db.queryOne("SELECT count(*) FROM c WHERE s = '\\N'", []) { $0.int(0) } == 1)
    }

    /// Many messages' worth of rows in one COPY (the writer sends about 64 KiB at a time).
    @Test func rowsBeyondOneMessageAreAllCopied() throws {
        let db = try database()
        let copied = try db.copy(into: "c", columns: ["k", "s"]) { rows in
            for k in 0..<50_000 { try rows.row([.int(k), .text("row \(k)\twith a tab")]) }
        }
        #expect(copied == 50_000)
        #expect(try db.queryOne("SELECT count(*), sum(k), max(s) FROM c", []) { ($0.int(0), $0.int(1), $0.text(2)) }! == (50_000, 1_249_975_000, "row 9999\twith a tab"))
    }

    /// A value the server refuses (here after more than one message was sent), a key taken and a
    /// NUL in a text: the server's error with its SQLSTATE, nothing copied, the connection usable
    /// at once, inside a transaction as outside.
    @Test func aServerErrorMidCopyCopiesNothingAndTheConnectionGoesOn() throws {
        let db = try database()
        func failing(_ state: String, _ bad: [SQLValue]) throws {
            do {
                try db.copy(into: "c", columns: ["k", "s"]) { rows in
                    for k in 0..<10_000 { try rows.row([.int(k), .text("fine")]) }
                    try rows.row(bad)
                    for k in 20_000..<21_000 { try rows.row([.int(k), .text("after")]) }
                }
                Issue.record("a bad row was copied")
            } catch let error as DatabaseError {
                #expect(error.sqlState == state, "\(error)")
                #expect(!error.isConnectionLost)
            }
            #expect(try count(db) == 0)
            #expect(try db.queryOne("SELECT 41 + 1", []) { $0.int(0) } == 42)
        }
        try failing("22P02", [.text("not a number"), .text("x")])
        try failing("23505", [.int(5), .text("a key taken")])
        try failing("22021", [.int(15_000), .text("a\u{0}b")])
        try failing("22P04", [.int(15_000)])  // a column missing

        // In a transaction: the failed COPY is undone by its savepoint, the rest commits.
        try db.transaction {
            try db.run("INSERT INTO c(k, s) VALUES(1, 'before')")
            do {
                try db.transaction {
                    try db.copy(into: "c", columns: ["k", "s"]) { rows in try rows.row([.int(1), .text("taken")]) }
                }
                Issue.record("a key taken was copied")
            } catch let error as DatabaseError {
                #expect(error.sqlState == "23505")
            }
            try db.copy(into: "c", columns: ["k", "s"]) { rows in try rows.row([.int(2), .text("after")]) }
        }
        #expect(try db.query("SELECT s FROM c ORDER BY k", []) { $0.text(0) } == ["before", "after"])
    }

    /// The body's own error ends the copy: it is what the caller gets, and nothing is copied.
    @Test func aThrowingBodyAbandonsTheCopy() throws {
        let db = try database()
        #expect(throws: Boom.self) {
            try db.copy(into: "c", columns: ["k", "s"]) { rows in
                for k in 0..<20_000 { try rows.row([.int(k), .text("sent")]) }
                throw Boom()
            }
        }
        #expect(try count(db) == 0)
        try db.copy(into: "c", columns: ["k", "s"]) { rows in try rows.row([.int(1), .text("next")]) }
        #expect(try count(db) == 1)
    }

    /// The server stops mid-copy: a lost connection (an outage), and the next statement after the
    /// restart reconnects.
    @Test func aServerLostMidCopyIsAnOutageAndTheNextStatementReconnects() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let db = try Database(location: .postgresql(uri: try cluster.createDatabase()))
        try db.execute("CREATE TABLE c(k INTEGER, s TEXT)")
        do {
            try db.copy(into: "c", columns: ["k", "s"]) { rows in
                for k in 0..<10_000 { try rows.row([.int(k), .text("before the stop")]) }
                try cluster.stopImmediately()
                for k in 0..<100_000 { try rows.row([.int(k), .text("after the stop")]) }
            }
            Issue.record("a copy to a stopped server succeeded")
        } catch let error as DatabaseError {
            #expect(error.isConnectionLost, "\(error)")
        }
        try cluster.startAgain()
        #expect(try db.queryOne("SELECT count(*) FROM c", []) { $0.int(0) } == 0)
        try db.copy(into: "c", columns: ["k", "s"]) { rows in try rows.row([.int(1), .text("again")]) }
        #expect(try db.query("SELECT s FROM c", []) { $0.text(0) } == ["again"])
    }

    @Test func sqliteHasNoCopy() throws {
        let directory = try TemporaryDirectory()
        let db = try Database(path: directory.path + "/x.db")
        try db.execute("CREATE TABLE c(k INTEGER)")
        #expect(throws: DatabaseError.self) { try db.copy(into: "c", columns: ["k"]) { rows in try rows.row([.int(1)]) } }
    }
}
