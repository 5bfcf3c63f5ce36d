import Testing
import MassivaDatabase
import MassivaTestSupport

/// The database wrapper on a real PostgreSQL 15 (the test cluster, `PostgresCluster`): the same
/// transactions as on SQLite, cursors for `each`, and a lost connection opened again.
@Suite struct PostgresDatabaseTests {
    struct Boom: Error {}

    func database() throws -> Database {
        let db = try Database(location: .postgresql(uri: try PostgresCluster.shared().createDatabase()))
        try db.execute("CREATE TABLE t(v TEXT COLLATE \"C\")")
        return db
    }

    func values(_ db: Database) throws -> [String] {
        try db.query("SELECT v FROM t ORDER BY v", []) { $0.text(0) }
    }

    @Test func aFailingNestedTransactionIsUndoneAloneAndTheOuterCommits() throws {
        let db = try database()
        try db.transaction {
            try db.transaction { try db.run("INSERT INTO t VALUES(?)", [.text("a")]) }
            do {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES(?)", [.text("b")])
                    // A failing statement aborts PostgreSQL's transaction: the savepoint undoes it.
                    try db.run("INSERT INTO nowhere VALUES(1)")
                }
            } catch is DatabaseError {}
            try db.transaction { try db.run("INSERT INTO t VALUES(?1)", [.text("c")]) }
        }
        #expect(try values(db) == ["a", "c"])
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES('z')")
                throw Boom()
            }
        }
        #expect(try values(db) == ["a", "c"])
    }

    /// The writers' lock not had within lock_timeout (another connection's write transaction
    /// holds it, as a leader paused in one does): the transaction fails busy and the connection
    /// goes on. It was left in the aborted transaction its BEGIN had opened, every later
    /// statement refused with 25P02 (a standby's lease tries in FailoverTests, for ever).
    @Test func aWriterLockNotHadInTimeFailsBusyAndTheConnectionGoesOn() throws {
        let uri = try PostgresCluster.shared().createDatabase()
        let holder = try Database(location: .postgresql(uri: uri))
        let waiter = try Database(location: .postgresql(uri: uri))
        try holder.execute("CREATE TABLE t(v TEXT)")
        // A tenth of a second, not the connection's 10 s: the wait is bound to fail.
        try waiter.execute("SET lock_timeout = '100ms'")
        var failure: DatabaseError?
        try holder.transaction {
            do {
                try waiter.transaction { try waiter.run("INSERT INTO t VALUES('lost')") }
            } catch let error as DatabaseError {
                failure = error
            }
        }
        #expect(failure?.isBusy == true, "\(String(describing: failure))")
        try waiter.transaction { try waiter.run("INSERT INTO t VALUES('after')") }
        #expect(try waiter.query("SELECT v FROM t", []) { $0.text(0) } == ["after"])
    }

    /// More rows than one FETCH brings, while the body runs other statements on the connection.
    @Test func eachStreamsEveryRowThroughACursor() throws {
        let db = try database()
        let rows = (0..<1_234).map { [SQLValue.text(String(format: "%05d", $0))] }
        try db.transaction { try db.insert(into: "t", columns: "v", columnCount: 1, rows: rows) }
        var seen: [String] = []
        try db.each("SELECT v FROM t WHERE v >= ? ORDER BY v", [.text("")]) { row in
            seen.append(row.text("v"))
            if seen.count == 700 {
                let n = try db.queryOne("SELECT count(*) AS n FROM t", []) { $0.int("n") }
                #expect(n == 1_234)
            }
        }
        #expect(seen == rows.map { if case .text(let v) = $0[0] { v } else { "" } })
    }

    @Test func valuesRoundTrip() throws {
        let db = try database()
        try db.execute("CREATE TABLE v(i BIGINT, d DOUBLE PRECISION, s TEXT, b BYTEA, n TEXT)")
        try db.run("INSERT INTO v VALUES(?, ?, ?, ?, ?)",
                   [.int(-9_007_199_254_740_993), .double(1_733_400_000.123456), .text("Perù ? 'x' $1"), .blob([0, 255, 10, 92]), .null])
        let row = try db.queryOne("SELECT i, d, s, b, n, i > 0 AS positive FROM v", []) { s in
            (s.int("i"), s.double("d"), s.text("s"), s.blob("b"), s.isNull("n"), s.bool("positive"))
        }
        #expect(row?.0 == -9_007_199_254_740_993)
        #expect(row?.1 == 1_733_400_000.123456)
        #expect(row?.2 == "Perù ? 'x' $1")
        #expect(row?.3 == [0, 255, 10, 92])
        #expect(row?.4 == true)
        #expect(row?.5 == false)
        #expect(db.changes == 1)
    }

    /// A server restart is an outage: the statement under way fails as a lost connection, and
    /// the next one reconnects by itself.
    @Test func aRestartedServerIsReachedAgainAtTheNextStatement() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let db = try Database(location: .postgresql(uri: try cluster.createDatabase()))
        try db.execute("CREATE TABLE t(v TEXT)")
        try db.run("INSERT INTO t VALUES('kept')")
        try cluster.stopImmediately()
        do {
            _ = try db.query("SELECT v FROM t", []) { $0.text(0) }
            Issue.record("a query on a stopped server answered")
        } catch let error as DatabaseError {
            #expect(error.isConnectionLost, "\(error)")
        }
        try cluster.startAgain()
        #expect(try db.query("SELECT v FROM t", []) { $0.text(0) } == ["kept"])
    }

    /// A connection the server closed while it sat idle (a restart) is found dead by the next
    /// statement: when that is a transaction's BEGIN, nothing of the transaction was sent, so it
    /// is opened again and the transaction goes on, instead of failing once more after the
    /// server is back. Both kinds: write (`transaction`) and read (`readTransaction`), and a
    /// lone read outside a transaction.
    @Test func aTransactionBegunAfterARestartReconnectsInsteadOfFailing() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let uri = try cluster.createDatabase()
        let writer = try Database(location: .postgresql(uri: uri))
        let reader = try Database(location: .postgresql(uri: uri))
        try writer.execute("CREATE TABLE t(v TEXT)")
        #expect(try reader.query("SELECT count(*) FROM t", []) { $0.int(0) } == [0])
        let lone = try Database(location: .postgresql(uri: uri))
        #expect(try lone.query("SELECT count(*) FROM t", []) { $0.int(0) } == [0])
        try cluster.stopImmediately()
        try cluster.startAgain()
        try writer.transaction { try writer.run("INSERT INTO t VALUES('after')") }
        #expect(try reader.readTransaction { try reader.query("SELECT v FROM t", []) { $0.text(0) } } == ["after"])
        // A lone read too (it is the same statement again on a new connection).
        #expect(try lone.query("SELECT v FROM t", []) { $0.text(0) } == ["after"])
    }

    /// A transaction left idle longer than the limit is ended by the server, its locks freed
    /// (the writers' lock: another connection's write goes through), and the connection, opened
    /// again, keeps the limit.
    @Test func anIdleTransactionPastTheLimitIsEndedByTheServer() throws {
        let uri = try PostgresCluster.shared().createDatabase()
        let frozen = try Database(location: .postgresql(uri: uri))
        let other = try Database(location: .postgresql(uri: uri))
        try other.execute("CREATE TABLE t(v TEXT)")
        try frozen.limitIdleTransactions(to: 1)
        let pid = try #require(try frozen.queryOne("SELECT pg_backend_pid()", []) { $0.int(0) })
        // A write transaction begun and left (as by a process stopped inside it): it holds the
        // writers' advisory lock.
        try frozen.execute("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(\(Database.writerLockKeyForTests))")
        #expect(waitUntil(timeout: 60) {
            (try? other.queryOne("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", [.int(pid)]) { $0.int(0) }) == 0
        }, "the server did not end the idle transaction's session")
        try other.transaction { try other.run("INSERT INTO t VALUES('after')") }
        #expect(throws: DatabaseError.self) { try frozen.execute("COMMIT") }
        #expect(try frozen.queryOne("SHOW idle_in_transaction_session_timeout", []) { $0.text(0) } == "1s")
    }

    @Test func anUnreachableDatabaseIsAClearErrorWithoutThePassword() throws {
        let directory = try TemporaryDirectory()
        do {
            _ = try Database(location: .postgresql(uri: "postgresql://massiva@/nowhere?host=\(directory.path)&port=1"))
            Issue.record("connected to nothing")
        } catch {
            #expect(error.description.contains("postgresql://massiva@/nowhere"))
            #expect(error.isConnectionLost)
        }
    }

    /// A connection made whose session settings are refused (a database in an encoding with no
    /// conversion to UTF-8, so `SET client_encoding = 'UTF8'` fails) is an error, and the
    /// connection is finished once: finished by the failed init and again by `deinit`, it was
    /// freed twice and glibc stopped the test process ("free(): double free detected").
    @Test func aConnectionWhoseSessionSettingsFailIsAnErrorAndFinishedOnce() throws {
        let cluster = try PostgresCluster.shared()
        let name = "mule_\(UInt32.random(in: 0...UInt32.max))"
        try cluster.psql("CREATE DATABASE \(name) ENCODING 'MULE_INTERNAL' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        defer { _ = try? cluster.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        for _ in 0..<3 {
            let error = #expect(throws: DatabaseError.self) { _ = try Database(location: .postgresql(uri: cluster.uri(database: name))) }
            #expect(error?.message.contains("client_encoding") == true, "\(String(describing: error))")
        }
        // The process goes on, and so do other connections.
        let db = try Database(location: .postgresql(uri: try cluster.createDatabase()))
        #expect(try db.queryOne("SELECT 1", []) { $0.int(0) } == 1)
    }

    @Test func aPasswordInTheSettingIsRefusedAndNeverShown() throws {
        #expect(throws: DatabaseLocationError.self) {
            try DatabaseLocation(setting: "postgresql://massiva:s3cret@db.example/massiva", embeddedPath: "/x")
        }
        do {
            _ = try DatabaseLocation(setting: "postgresql://db.example/massiva?user=m&password=s3cret", embeddedPath: "/x")
        } catch {
            #expect(!"\(error)".contains("s3cret"))
            #expect("\(error)".contains("password=***"))
        }
        #expect(try DatabaseLocation(setting: "", embeddedPath: "/s/private/massiva.db") == .sqlite(path: "/s/private/massiva.db"))
        #expect(try DatabaseLocation(setting: " sqlite ", embeddedPath: "/d") == .sqlite(path: "/d"))
        #expect(try DatabaseLocation(setting: "postgresql:///massiva?host=/run/postgresql", embeddedPath: "/d")
                == .postgresql(uri: "postgresql:///massiva?host=/run/postgresql"))
        #expect(throws: DatabaseLocationError.self) { try DatabaseLocation(setting: "mysql://x", embeddedPath: "/d") }
        #expect(DatabaseLocation.redacted("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db")
    }
}
