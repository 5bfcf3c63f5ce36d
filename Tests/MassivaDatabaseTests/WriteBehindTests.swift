import Testing
import MassivaDatabase
import MassivaTestSupport

/// Writes sent behind (`Database.writingBehind`, libpq's pipeline mode) on a real PostgreSQL 15:
/// they are done, in order, before anything that reads; a write that fails is thrown by the next
/// statement that waits for an answer, and its transaction commits nothing; `changes` counts as
/// after a plain write; and a nested transaction without savepoints cannot hide a failure.
@Suite struct WriteBehindTests {
    func database() throws -> Database {
        let db = try Database(location: .postgresql(uri: try PostgresCluster.shared().createDatabase()))
        try db.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        return db
    }

    func rows(_ db: Database) throws -> [String] {
        try db.query("SELECT k, v FROM t ORDER BY k", []) { "\($0.int(0))=\($0.text(1))" }
    }

    /// Many writes, a read among them sees those before it, and all are committed.
    @Test func writesSentBehindAreDoneInOrderBeforeAReadAndCommitted() throws {
        let db = try database()
        var seen: [Int] = []
        try db.transaction {
            try db.writingBehind {
                for k in 0..<300 {  // past the pipeline's limit of answers left unread
                    try db.run("INSERT INTO t(k, v) VALUES(?, ?)", [.int(k), .text("a")])
                }
                try db.run("UPDATE t SET v = 'b' WHERE k < ?", [.int(10)])
                #expect(db.changes == 10)
                seen = try db.query("SELECT count(*) FROM t WHERE v = 'b'", []) { $0.int(0) }
                try db.run("DELETE FROM t WHERE k >= ?", [.int(3)])
            }
        }
        #expect(seen == [10])
        #expect(try rows(db) == ["0=b", "1=b", "2=b"])
    }

    /// A write that fails (a key taken) is not thrown where it was sent but by the COMMIT, which
    /// then commits nothing: neither the writes before it nor those after.
    @Test func aFailedWriteIsThrownByTheCommitAndNothingIsCommitted() throws {
        let db = try database()
        try db.run("INSERT INTO t(k, v) VALUES(1, 'kept')")
        var sentWithoutError = false
        do {
            try db.transaction {
                try db.writingBehind {
                    try db.run("INSERT INTO t(k, v) VALUES(2, 'lost')")
                    try db.run("INSERT INTO t(k, v) VALUES(1, 'taken')")
                    try db.run("INSERT INTO t(k, v) VALUES(3, 'lost')")
                    sentWithoutError = true
                }
            }
            Issue.record("the transaction committed")
        } catch let error as DatabaseError {
            #expect(error.sqlState == "23505", "\(error)")
            #expect(error.sql?.contains("'taken'") == true, "the error names its own statement: \(error)")
        }
        #expect(sentWithoutError)
        #expect(try rows(db) == ["1=kept"])
        // The connection goes on, out of pipeline mode.
        try db.transaction { try db.writingBehind { try db.run("INSERT INTO t(k, v) VALUES(4, 'after')") } }
        #expect(try rows(db) == ["1=kept", "4=after"])
    }

    /// The failure is thrown by the first read after it, as by the COMMIT.
    @Test func aFailedWriteIsThrownByTheNextRead() throws {
        let db = try database()
        try db.run("INSERT INTO t(k, v) VALUES(1, 'kept')")
        var readFailed = false
        #expect(throws: DatabaseError.self) {
            try db.transaction {
                try db.writingBehind {
                    try db.run("INSERT INTO t(k, v) VALUES(1, 'taken')")
                    do {
                        _ = try db.query("SELECT count(*) FROM t", []) { $0.int(0) }
                    } catch {
                        readFailed = true
                        throw error
                    }
                }
            }
        }
        #expect(readFailed)
        #expect(try rows(db) == ["1=kept"])
    }

    /// `withoutSavepoints`: a nested transaction's failure, caught by its caller, would have been
    /// undone by its savepoint; without one PostgreSQL aborts the whole transaction and answers
    /// its COMMIT with ROLLBACK, which is an error, not a silent loss.
    @Test func aCaughtFailureWithoutSavepointsFailsTheCommit() throws {
        let db = try database()
        #expect(throws: DatabaseError.self) {
            try db.transaction {
                try db.withoutSavepoints {
                    try db.run("INSERT INTO t(k, v) VALUES(1, 'lost')")
                    do {
                        try db.transaction { try db.run("INSERT INTO nowhere VALUES(1)") }
                    } catch is DatabaseError {}
                }
            }
        }
        #expect(try rows(db) == [])
        // With savepoints (the default), the same is undone alone and the rest commits.
        try db.transaction {
            try db.run("INSERT INTO t(k, v) VALUES(1, 'kept')")
            do {
                try db.transaction { try db.run("INSERT INTO nowhere VALUES(1)") }
            } catch is DatabaseError {}
        }
        #expect(try rows(db) == ["1=kept"])
    }

    /// The server stopped while writes are sent behind: the COMMIT fails as a lost connection,
    /// and the connection is opened again for the next transaction, which works.
    @Test func aServerLostDuringAPipelineIsAnOutageAndTheNextTransactionWorks() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let db = try Database(location: .postgresql(uri: try cluster.createDatabase()))
        try db.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        do {
            try db.transaction {
                try db.writingBehind {
                    try db.run("INSERT INTO t(k, v) VALUES(1, 'lost')")
                    try cluster.stopImmediately()
                    try db.run("INSERT INTO t(k, v) VALUES(2, 'lost')")
                }
            }
            Issue.record("the transaction committed on a stopped server")
        } catch let error as DatabaseError {
            #expect(error.isConnectionLost, "\(error)")
        }
        try cluster.startAgain()
        try db.transaction { try db.writingBehind { try db.run("INSERT INTO t(k, v) VALUES(3, 'after')") } }
        #expect(try rows(db) == ["3=after"])
    }
}
