import Foundation
import Glibc
import MassivaTestSupport
import Testing

/// A spool whose state is in PostgreSQL (`database = postgresql://...` in its massiva.cf),
/// driven through the built `massiva` as a real process.
final class PostgresSpool {
    let directory: TemporaryDirectory
    var root: String { directory.path }
    var spool: String { root + "/spool" }
    var configPath: String { root + "/massiva.cf" }
    var logPath: String { root + "/daemon.log" }
    /// Where the embedded database would be: nothing may be made there.
    var embeddedDatabase: String { spool + "/private/massiva.db" }

    /// `extra`: more lines of massiva.cf.
    init(database uri: String, extra: String = "") throws {
        directory = try TemporaryDirectory(prefix: "massiva-pg")
        try """
        spool_directory = \(spool)
        database = \(uri)
        rescan_interval = 1h
        \(extra)

        """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func run(_ arguments: [String]) throws -> ProcessRun {
        try SpawnedProcess.run([BuiltProgram.massiva, "--config", configPath] + arguments, timeout: 120)
    }

    /// `massiva serve`, its stderr (the log) appended to `logPath`.
    func startDaemon(environment: [String: String] = [:]) throws -> SpawnedProcess {
        try SpawnedProcess([BuiltProgram.massiva, "--config", configPath, "serve"], environment: environment,
                           standardOutput: .discard, standardError: .appending(logPath))
    }

    var logLines: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    var embeddedDatabaseExists: Bool { FileManager.default.fileExists(atPath: embeddedDatabase) }
}

/// The database's name in a `PostgresCluster.createDatabase()` URI (`postgresql:///NAME?...`).
func databaseName(_ uri: String) -> String {
    String(uri.dropFirst("postgresql:///".count).prefix { $0 != "?" })
}

/// `database = postgresql://...` through the commands: what they do on a real PostgreSQL 15
/// (the test cluster), and what they say when it cannot be reached.
@Suite struct PostgresSettingCommandTests {
    /// No server behind the URI (a socket folder with no socket in it): every command says
    /// libpq's reason after the URI, on one line, and exits 2 having made nothing.
    @Test func anUnreachableDatabaseIsExitStatus2WithLibpqsMessage() throws {
        let nowhere = try TemporaryDirectory(prefix: "massiva-nopg")
        let uri = "postgresql:///massiva?host=\(nowhere.path)&port=5&user=massiva"
        let s = try PostgresSpool(database: uri)
        for command in [["status"], ["tenant", "add", "acme", "--name", "ACME"], ["tenant", "list"], ["check"], ["serve", "--once"]] {
            let r = try s.run(command)
            #expect(r.status == 2, "\(command): \(r.stderr)")
            #expect(r.stderr.hasPrefix("massiva: database \(uri): connection to server on socket \"\(nowhere.path)/.s.PGSQL.5\" failed"),
                    "\(command): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(command): \(r.stderr)")
        }
        #expect(!s.embeddedDatabaseExists)
    }

    /// A server that answers, a database it does not have: libpq's FATAL, the same way.
    @Test func aWrongDatabaseNameIsExitStatus2() throws {
        let cluster = try PostgresCluster.shared()
        let uri = cluster.uri(database: "no_such_database")
        let s = try PostgresSpool(database: uri)
        let r = try s.run(["tenant", "list"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("massiva: database \(uri): "), "\(r.stderr)")
        #expect(r.stderr.contains("database \"no_such_database\" does not exist"), "\(r.stderr)")
        #expect(!s.embeddedDatabaseExists)
    }

    @Test func aPasswordInTheSettingIsAConfigurationErrorThatDoesNotShowIt() throws {
        let s = try PostgresSpool(database: "postgresql://massiva:Sup3rSecret@db.invalid/massiva")
        for command in [["config"], ["status"]] {
            let r = try s.run(command)
            #expect(r.status == 2, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("~/.pgpass") && !r.stderr.contains("Sup3rSecret") && !r.stdout.contains("Sup3rSecret"),
                    "\(command): \(r.stderr)")
        }
    }

    /// tenant add, tenant list, status, check and config on a real PostgreSQL database: the
    /// tenant is in PostgreSQL's `tenants`, nothing is made at private/massiva.db, and backup
    /// refuses, pointing to pg_dump.
    @Test func commandsKeepTheStateInPostgreSQL() throws {
        let cluster = try PostgresCluster.shared()
        let uri = try cluster.createDatabase()
        let s = try PostgresSpool(database: uri)

        let added = try s.run(["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try cluster.psql("SELECT id, name FROM tenants", database: databaseName(uri)) == "acme|ACME Impianti S.r.l.")
        let listed = try s.run(["tenant", "list"])
        #expect(listed.status == 0 && listed.stdout.contains("acme"), "\(listed.stdout)\(listed.stderr)")

        let status = try s.run(["status"])
        #expect(status.status == 3, "\(status.stdout)\(status.stderr)")  // no daemon running
        #expect(status.stdout.contains("queued: 0"), "\(status.stdout)\(status.stderr)")

        let check = try s.run(["check"])
        #expect(check.status == 0 && check.stdout == "OK\n", "\(check.stdout)\(check.stderr)")

        let config = try s.run(["config", "-n"])
        #expect(config.stdout.split(separator: "\n").contains { $0 == "database = \(uri)" }, "\(config.stdout)")

        let copy = s.root + "/backup.db"
        let backup = try s.run(["backup", copy])
        #expect(backup.status == 2, "\(backup.stderr)")
        #expect(backup.stderr.contains("pg_dump") && backup.stderr.contains(uri), "\(backup.stderr)")
        #expect(!FileManager.default.fileExists(atPath: copy))

        #expect(!s.embeddedDatabaseExists)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: s.spool + "/private"))?.contains { $0.hasPrefix("massiva.db") } == false)
    }

    /// `check`'s lines name the database by its URI, not private/massiva.db, and it runs no
    /// SQLite statement there (integrity_check would fail to prepare and be listed).
    @Test func checkNamesTheDatabaseByItsURI() throws {
        let cluster = try PostgresCluster.shared()
        let uri = try cluster.createDatabase()
        let s = try PostgresSpool(database: uri)
        #expect(try s.run(["tenant", "add", "acme", "--name", "ACME"]).status == 0)
        // A version no release wrote yet, set behind massiva's back.
        try cluster.psql("UPDATE schema_version SET version = 999", database: databaseName(uri))
        let check = try s.run(["check"])
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        let lines = check.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(uri): schema version 999 is unknown to this binary") }, "\(check.stdout)")
        #expect(!check.stdout.contains("massiva.db") && !check.stdout.contains("integrity_check"), "\(check.stdout)")
        #expect(!s.embeddedDatabaseExists)
    }
}

/// `massiva serve` when its PostgreSQL database cannot be reached: it waits, says so, and starts
/// once the server answers; SIGTERM ends the wait.
@Suite(.serialized) struct PostgresDatabaseWaitTests {
    /// The cluster down at the start (as at boot, before PostgreSQL): database_unavailable
    /// lines with a doubling retry_in, READY with a waiting STATUS; the cluster started, the
    /// daemon starts as usual, makes nothing at private/massiva.db, and stops with 0.
    @Test func theDaemonWaitsForTheDatabaseAndStartsOnceItAnswers() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let uri = try cluster.createDatabase()
        try cluster.stopImmediately()
        let s = try PostgresSpool(database: uri)
        let listener = try NotifyListener(directory: s.root)
        let daemon = try s.startDaemon(environment: ["NOTIFY_SOCKET": listener.path])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }

        let waiting = listener.receive(for: 60) { $0.contains { $0.contains("READY=1") } }
        let ready = waiting.first { $0.contains("READY=1") }
        #expect(ready?.contains("STATUS=waiting for the database \(uri): connection to server") == true, "\(waiting)")
        // Two failed tries: the pause doubles.
        #expect(waitUntil(timeout: 60) { s.logLines.filter { $0.hasPrefix("database_unavailable") }.count >= 2 }, "\(s.logLines)")
        let unavailable = s.logLines.filter { $0.hasPrefix("database_unavailable") }
        #expect(unavailable.first?.contains("database=\(uri) ") == true, "\(unavailable)")
        #expect(unavailable.first?.contains("error=\"connection to server on socket") == true, "\(unavailable)")
        #expect(unavailable.first?.hasSuffix(" retry_in=1s") == true, "\(unavailable)")
        #expect(unavailable.dropFirst().first?.hasSuffix(" retry_in=2s") == true, "\(unavailable)")
        #expect(!s.logLines.contains { $0.hasPrefix("started") })
        #expect(daemon.isRunning)
        // status says the daemon runs, then why it cannot say more.
        let waitingStatus = try s.run(["status"])
        #expect(waitingStatus.status == 2, "\(waitingStatus.stdout)\(waitingStatus.stderr)")
        #expect(waitingStatus.stdout.hasPrefix("massiva serve is running (pid \(daemon.processIdentifier))"), "\(waitingStatus.stdout)")
        #expect(waitingStatus.stderr.hasPrefix("massiva: database \(uri): connection to server"), "\(waitingStatus.stderr)")

        try cluster.startAgain()
        #expect(waitUntil(timeout: 120) { s.logLines.contains { $0.hasPrefix("started") } }, "\(s.logLines)")
        #expect(s.logLines.contains("database_available database=\(uri)"), "\(s.logLines)")
        let running = listener.receive(for: 30) { $0.contains { $0.contains("READY=1") && $0.contains("STATUS=queued 0") } }
        #expect(running.contains { $0.contains("STATUS=queued 0") }, "\(running)")
        let status = try s.run(["status"])
        #expect(status.status == 0 && status.stdout.contains("massiva serve is running"), "\(status.stdout)\(status.stderr)")

        daemon.terminate()
        #expect(daemon.waitUntilExit(timeout: 60), "\(s.logLines)")
        guard !daemon.isRunning else { return }  // reading its status would wait for ever; the defer kills it
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0, "\(s.logLines)")
        #expect(!s.embeddedDatabaseExists)
    }

    /// SIGTERM while the daemon waits ends it at once with status 0: the line after the last
    /// database_unavailable is its stop, not another try.
    @Test func sigtermWhileWaitingStopsTheDaemon() throws {
        let nowhere = try TemporaryDirectory(prefix: "massiva-nopg")
        let uri = "postgresql:///massiva?host=\(nowhere.path)&port=5"
        let s = try PostgresSpool(database: uri)
        let daemon = try s.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasSuffix("retry_in=4s") } }, "\(s.logLines)")
        daemon.terminate()
        // Less than the 4 s pause it is in: a daemon that looked at signals only between its
        // tries would exit after it (with one more try logged), or never.
        #expect(daemon.waitUntilExit(timeout: 3), "\(s.logLines)")
        #expect(daemon.waitUntilExit(timeout: 60))
        guard !daemon.isRunning else { return }  // reading its status would wait for ever; the defer kills it
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0, "\(s.logLines)")
        #expect(Array(s.logLines.suffix(3)) == [s.logLines.last { $0.hasPrefix("database_unavailable") } ?? "", "stopping reason=SIGTERM", "stopped"],
                "\(s.logLines)")
        #expect(s.logLines.last { $0.hasPrefix("database_unavailable") }?.hasSuffix("retry_in=4s") == true, "\(s.logLines)")
        #expect(!s.embeddedDatabaseExists)
    }

    /// A wrong `database` line corrected while the daemon waits: SIGHUP reads massiva.cf again
    /// and the next try is on the new URI, at once, with no restart.
    @Test func sighupWhileWaitingTriesTheCorrectedDatabase() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let good = try cluster.createDatabase()
        let nowhere = try TemporaryDirectory(prefix: "massiva-nopg")
        let wrong = "postgresql:///massiva?host=\(nowhere.path)&port=5"
        let s = try PostgresSpool(database: wrong)
        let daemon = try s.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        // Waiting 4 s after its third try: the corrected URI is tried on the signal, not later.
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasSuffix("retry_in=4s") } }, "\(s.logLines)")
        // The waiting daemon holds the node's lock: a second one is refused at once, not made to wait too.
        let second = try s.run(["serve"])
        #expect(second.status == 1 && second.stderr.contains("another massiva serve is running"), "\(second.stdout)\(second.stderr)")
        let text = try String(contentsOfFile: s.configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "database = \(wrong)", with: "database = \(good)")
            .write(toFile: s.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasPrefix("started") } }, "\(s.logLines)")
        #expect(s.logLines.contains("reloaded database=\(good)"), "\(s.logLines)")
        #expect(s.logLines.contains("database_available database=\(good)"), "\(s.logLines)")
        // Not one more try on the old URI after the signal, and none waited out: no retry_in=8s.
        let afterReload = s.logLines.drop { !$0.hasPrefix("reloaded") }
        #expect(!afterReload.contains { $0.hasPrefix("database_unavailable") }, "\(s.logLines)")
        #expect(!s.logLines.contains { $0.hasSuffix("retry_in=8s") }, "\(s.logLines)")
        let status = try s.run(["status"])
        #expect(status.status == 0 && status.stdout.contains("massiva serve is running"), "\(status.stdout)\(status.stderr)")
        daemon.terminate()
        #expect(daemon.waitUntilExit(timeout: 60), "\(s.logLines)")
        guard !daemon.isRunning else { return }
        #expect(daemon.terminationStatus == 0)
        #expect(!s.embeddedDatabaseExists)
    }

    /// A massiva.cf made bad while the daemon waits: SIGHUP says why and the wait goes on with
    /// the database it had.
    @Test func aBadReloadWhileWaitingKeepsWaiting() throws {
        let nowhere = try TemporaryDirectory(prefix: "massiva-nopg")
        let wrong = "postgresql:///massiva?host=\(nowhere.path)&port=5"
        let s = try PostgresSpool(database: wrong)
        let daemon = try s.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasPrefix("database_unavailable") } }, "\(s.logLines)")
        let text = try String(contentsOfFile: s.configPath, encoding: .utf8)
        try (text + "\nmax_rows = banana\n").write(toFile: s.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasPrefix("reload_failed") } }, "\(s.logLines)")
        let failed = s.logLines.first { $0.hasPrefix("reload_failed") } ?? ""
        #expect(failed.contains("max_rows"), "\(failed)")
        // It goes on trying the database it had.
        #expect(waitUntil(timeout: 60) {
            s.logLines.drop { !$0.hasPrefix("reload_failed") }.contains { $0.hasPrefix("database_unavailable database=\(wrong) ") }
        }, "\(s.logLines)")
        #expect(daemon.isRunning)
        daemon.terminate()
        #expect(daemon.waitUntilExit(timeout: 60), "\(s.logLines)")
    }

    /// SIGHUP with another `database`: the daemon says it keeps the one it started with (its
    /// lease is there) and goes on working on it with the rest of the new configuration.
    @Test func aReloadKeepsTheDatabaseTheDaemonStartedWith() throws {
        // The rescan takes the file whether or not the reload's new watch saw it arrive.
        let h = try DaemonHarness(rescanInterval: "1s")
        let daemon = try h.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(h.waitUntil(60) { h.log.contains("started") }, "\(h.log)")
        let uri = "postgresql:///elsewhere?host=/nonexistent&port=5"
        let text = try String(contentsOfFile: h.configPath, encoding: .utf8)
        try (text + "\ndatabase = \(uri)\n").write(toFile: h.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(h.waitUntil(60) { h.log.contains("reloaded") }, "\(h.log)")
        // The setting it started with: the default's name, or the harness's own URI on PostgreSQL.
        let kept = h.database.engine == .sqlite ? "sqlite" : h.database.name
        #expect(h.log.contains("database_kept database=\(kept) configured=\(uri) "), "\(h.log)")
        try h.drop(SampleRows.clean(count: 1), as: "after-reload.csv")
        #expect(h.waitUntil(60) { (h.stato("acme", "MOME-000000001")?["status"] as? String) == "done" }, "\(h.log)")
        #expect(!h.log.contains("database_unavailable"))
        daemon.terminate()
        #expect(daemon.waitUntilExit(timeout: 60))
        guard !daemon.isRunning else { return }  // reading its status would wait for ever; the defer kills it
        #expect(daemon.terminationStatus == 0)
    }
}
