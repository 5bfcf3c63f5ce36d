import Foundation
import Glibc
import MassivaTestSupport
import Testing

/// `PostgresCluster`: a real PostgreSQL 15 server, its databases, a crash and restart, and that
/// nothing of it is left behind, whether the tests stop it or their process is killed.
@Suite struct PostgresClusterTests {
    @Test func aCreatedDatabaseAnswersOverItsURIAndOverTCP() throws {
        let cluster = try PostgresCluster.shared()
        let uri = try cluster.createDatabase()
        let name = try #require(databaseName(uri))
        #expect(uri == "postgresql:///\(name)?host=\(cluster.socketDirectory)&port=\(cluster.port)&user=massiva_test")
        #expect(try cluster.psql("SELECT current_database(), current_user, 6 * 7", database: name) == "\(name)|massiva_test|42")
        // The URI as a client gets it (libpq parses it, not our psql helper's options).
        let overURI = try SpawnedProcess.run(["psql", "-XAtq", "-c", "SELECT current_database()", uri])
        #expect(overURI.status == 0, "\(overURI.stderr)")
        #expect(overURI.stdout == name + "\n")
        let overTCP = try SpawnedProcess.run(["psql", "-XAtq", "-h", "127.0.0.1", "-p", String(cluster.port),
                                              "-U", cluster.superuser, "-d", name, "-c", "SELECT inet_server_addr()"])
        #expect(overTCP.status == 0, "\(overTCP.stderr)")
        #expect(overTCP.stdout == "127.0.0.1\n")
    }

    @Test func aFailingStatementThrowsWithPostgresMessage() throws {
        let cluster = try PostgresCluster.shared()
        #expect { try cluster.psql("SELECT 1; SELECT * FROM no_such_table; SELECT 2") } throws: { error in
            "\(error)".contains("relation \"no_such_table\" does not exist")
        }
    }

    @Test func twoDatabasesAreDifferentAndEmpty() async throws {
        let cluster = try PostgresCluster.shared()
        // Made at the same time, as parallel tests do.
        async let first = Task.detached { try cluster.createDatabase() }.value
        async let second = Task.detached { try cluster.createDatabase() }.value
        let (a, b) = (try databaseName(await first)!, try databaseName(await second)!)
        #expect(a != b)
        let userTables = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        #expect(try cluster.psql(userTables, database: a) == "0")
        #expect(try cluster.psql(userTables, database: b) == "0")
        try cluster.psql("CREATE TABLE only_in_a (x int)", database: a)
        #expect(try cluster.psql(userTables, database: a) == "1")
        #expect(try cluster.psql(userTables, database: b) == "0")
    }

    @Test func aCrashAndRestartKeepWhatWasCommitted() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let name = try #require(databaseName(try cluster.createDatabase()))
        try cluster.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3)", database: name)
        let postmaster = try #require(cluster.postmasterProcessIdentifier)
        try cluster.stopImmediately()
        #expect(processIsGone(postmaster))
        #expect(throws: (any Error).self) { try cluster.psql("SELECT 1") }
        try cluster.startAgain()
        #expect(try cluster.psql("SELECT sum(x) FROM t", database: name) == "6")
        #expect(cluster.postmasterProcessIdentifier != postmaster)
        let log = try String(contentsOfFile: cluster.logFile, encoding: .utf8)
        #expect(log.contains("automatic recovery in progress"), "the restart recovered from a crash")
    }

    @Test func theWatchdogRemovesAClusterWhoseOwnerWasKilled() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let postmaster = try #require(cluster.postmasterProcessIdentifier)
        let backends = children(of: postmaster)
        #expect(!backends.isEmpty)
        let owner = try cluster.handOwnershipToChild()
        // Still there while its owner lives: only the owner's death sets the watchdog off.
        #expect(try cluster.psql("SELECT 1") == "1")
        kill(owner, SIGKILL)
        var status: Int32 = 0
        #expect(waitpid(owner, &status, 0) == owner)
        let gone = waitUntil(timeout: 120) {
            processIsGone(postmaster) && backends.allSatisfy(processIsGone)
                && !FileManager.default.fileExists(atPath: cluster.socketDirectory)
        }
        #expect(gone, "the postmaster, its processes and \(cluster.socketDirectory) are gone")
    }

    @Test func stopLeavesNoProcessAndNoFolder() throws {
        let cluster = try PostgresCluster.start()
        let postmaster = try #require(cluster.postmasterProcessIdentifier)
        let backends = children(of: postmaster)
        #expect(!backends.isEmpty)
        #expect(FileManager.default.fileExists(atPath: cluster.socketDirectory + "/.s.PGSQL.\(cluster.port)"))
        cluster.stop()
        #expect(processIsGone(postmaster))
        #expect(backends.allSatisfy(processIsGone))
        #expect(!FileManager.default.fileExists(atPath: cluster.socketDirectory))
        cluster.stop()
    }

    @Test func clustersStartedTogetherGetTheirOwnFolderAndPort() async throws {
        let clusters = try await withThrowingTaskGroup(of: PostgresCluster.self) { group in
            for _ in 0..<3 { group.addTask { try PostgresCluster.start() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { for cluster in clusters { cluster.stop() } }
        #expect(Set(clusters.map(\.port)).count == 3)
        #expect(Set(clusters.map(\.socketDirectory)).count == 3)
        for cluster in clusters {
            #expect(cluster.socketDirectory.hasPrefix("/tmp/mpg"))
            #expect(try cluster.psql("SHOW port") == String(cluster.port))
        }
    }

    /// The pair of a failover: a commit on the primary is on the synchronous standby when it
    /// returns; the standby takes no writes; the primary crashed and the standby promoted, the
    /// multi-host URI (through libpq, as massiva and psql read it) lands on the new primary with
    /// everything committed before; stop leaves neither server nor folder.
    @Test func aPrimaryAndItsSynchronousStandbyFailOver() throws {
        let pair = try PostgresPair.start()
        defer { pair.stop() }
        #expect(try pair.a.psql("SELECT application_name, sync_state FROM pg_stat_replication") == "standby1|sync")
        #expect(try pair.b.isInRecovery())
        #expect(try !pair.a.isInRecovery())
        let database = try pair.spoolDatabase()
        let name = try #require(database.databaseName)
        try pair.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3)", database: name)
        // Synchronous: the standby has it (applied a moment later; waited for, not assumed).
        #expect(waitUntil(timeout: 60) { (try? pair.b.psql("SELECT sum(x) FROM t", database: name)) == "6" })
        #expect(throws: (any Error).self) { try pair.b.psql("INSERT INTO t VALUES (4)", database: name) }
        guard case .postgresql(let uri) = database.location else { Issue.record("not PostgreSQL"); return }
        #expect(uri.contains("target_session_attrs=read-write") && uri.contains(pair.a.socketDirectory + "," + pair.b.socketDirectory))
        let port = { (try? SpawnedProcess.run(["psql", "-XAtq", "-c", "SHOW port", uri]))?.stdout }
        #expect(port() == "\(pair.a.port)\n")

        let postmaster = try #require(pair.a.postmasterProcessIdentifier)
        try pair.crashPrimaryAndPromote {
            // Between: nobody takes writes, and the URI says so (libpq: the standby is read-only).
            let refused = try SpawnedProcess.run(["psql", "-XAtq", "-c", "SELECT 1", uri])
            #expect(refused.status != 0 && refused.stderr.contains("read-only"), "\(refused.stderr)")
        }
        #expect(processIsGone(postmaster))
        #expect(pair.primary === pair.b)
        #expect(try !pair.b.isInRecovery())
        #expect(port() == "\(pair.b.port)\n")
        #expect(try database.text("SELECT sum(x) FROM t") == "6")
        // The new primary has no synchronous standby to wait for: a commit returns.
        _ = try database.text("INSERT INTO t VALUES (4)")
        #expect(try database.text("SELECT sum(x) FROM t") == "10")

        let folders = [pair.a.socketDirectory, pair.b.socketDirectory]
        let standbyPostmaster = try #require(pair.b.postmasterProcessIdentifier)
        pair.stop()
        #expect(processIsGone(standbyPostmaster))
        #expect(folders.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }
}

/// The database's name in a `postgresql:///NAME?...` URI.
private func databaseName(_ uri: String) -> String? {
    guard uri.hasPrefix("postgresql:///"), let query = uri.firstIndex(of: "?") else { return nil }
    return String(uri[uri.index(uri.startIndex, offsetBy: "postgresql:///".count)..<query])
}

/// True when `pid` has ended: no such process, or a zombie nobody reaped (the postmaster is not
/// our child, and a container's init may be slow to reap it).
private func processIsGone(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.first == "Z" || fields.first == "X"
}

/// The pids whose parent is `pid` (a postmaster's checkpointer, WAL writer, ...).
private func children(of pid: pid_t) -> [pid_t] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
        guard let child = pid_t(entry),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && pid_t(fields[2]) == pid ? child : nil
    }
}
