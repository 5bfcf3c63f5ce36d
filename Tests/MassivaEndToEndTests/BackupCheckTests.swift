import Foundation
import Glibc
import MassivaTestSupport
import Testing

/// `massiva backup` and `massiva check`, through the built binary.
@Suite struct BackupCheckTests {
    /// Files of the backlog (CrashTests' files and registry), one backup after each.
    static let files = 20

    func sql(_ database: String, _ query: String) throws -> [[String]] { try sqlite(database, query) }

    /// Backups taken while a daemon works through a backlog: each opens, passes integrity_check
    /// and holds every request committed before it started, with the same content; the last,
    /// taken with the daemon stopped, equals the live database. SQLite only: `massiva backup`
    /// copies the embedded file, and on PostgreSQL refuses, naming pg_dump (that refusal is
    /// PostgresSettingCommandTests.commandsKeepTheStateInPostgreSQL).
    @Test(.enabled(if: TestDatabase.engine == .sqlite, "massiva backup copies the SQLite file; PostgreSQL's is pg_dump"))
    func backupWhileTheDaemonWorks() throws {
        let spool = try Spool()
        let crash = CrashTests()
        try crash.writeRegistry(spool.root + "/registry")
        try spool.ok(["registry", "import", spool.root + "/registry"])
        try spool.ok(["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."])
        let daemon = try spool.start(["serve"])
        // Stopped whatever happens below, so no daemon outlives the test.
        defer {
            if daemon.process.isRunning { Glibc.kill(daemon.process.processIdentifier, SIGTERM) }
            _ = spool.finish(daemon)
        }
        // The files arrive one by one, a backup after each: the daemon is taking and
        // processing them while the backups are made, whatever its speed.
        for k in 0..<Self.files {
            let staging = spool.root + "/staging-\(k).csv"
            try crash.file(k).write(toFile: staging, atomically: false, encoding: .utf8)
            try FileManager.default.moveItem(atPath: staging, toPath: spool.incoming("acme") + "/batch-\(k).csv")
            // What is committed now must be in a backup started after this.
            let committed = try spool.sql("SELECT id, status, rows_processed, length(content) FROM requests ORDER BY id")
            let copy = spool.root + "/backup-\(k).db"
            let r = try spool.run(["backup", copy])
            #expect(r.status == 0, "backup: \(r.stderr)")
            #expect(try sql(copy, "PRAGMA integrity_check") == [["ok"]])
            let copied = Dictionary(uniqueKeysWithValues: try sql(copy, "SELECT id, status, rows_processed, length(content) FROM requests")
                .map { ($0[0], $0) })
            for row in committed {
                guard let found = copied[row[0]] else {
                    Issue.record("backup \(k) lacks committed request \(row[0])")
                    continue
                }
                #expect(found[3] == row[3], "request \(row[0])'s bytes")
                // A request moves on only forward: the copy is at its state then or later.
                #expect(Int(found[2])! >= Int(row[2])!, "request \(row[0])'s rows processed")
            }
            try? FileManager.default.removeItem(atPath: copy)
        }
        let deadline = Date().addingTimeInterval(120)
        while try spool.sqlInt("SELECT count(*) FROM requests WHERE status = 'done'") < Self.files
                && daemon.process.isRunning && Date() < deadline {
            usleep(50_000)  // polling the daemon's progress, not a timed expectation
        }
        #expect(try spool.sqlInt("SELECT count(*) FROM requests WHERE status = 'done'") == Self.files)
        Glibc.kill(daemon.process.processIdentifier, SIGTERM)
        daemon.process.waitUntilExit()
        // With nothing moving, the backup is the database: same requests, rows, associations.
        let last = spool.root + "/backup-final.db"
        try spool.ok(["backup", last])
        // Only its owner may read it: it holds the holders' tax codes and the uploads.
        let mode = try FileManager.default.attributesOfItem(atPath: last)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let figures = "SELECT (SELECT count(*) FROM requests), (SELECT total(rows_processed) FROM requests), "
            + "(SELECT count(*) FROM rows), (SELECT count(*) FROM associations), (SELECT count(*) FROM audit)"
        #expect(try sql(last, figures) == (try spool.sql(figures)))
        // A backup is never overwritten unless asked.
        let refused = try spool.run(["backup", last])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("exists"))
        try spool.ok(["backup", "--force", last])
        #expect(try sql(last, "PRAGMA integrity_check") == [["ok"]])
        // No temporary file is left beside the backups.
        #expect(spool.list(spool.root).filter { $0.hasPrefix(".") }.isEmpty)
        // The restore of docs/operations.md: the daemon stopped, the backup copied over the database, its
        // -wal and -shm removed; check passes and the spool serves on with it.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: spool.database + suffix) }
        try FileManager.default.removeItem(atPath: spool.database)
        try FileManager.default.copyItem(atPath: last, toPath: spool.database)
        let check = try spool.run(["check"])
        #expect(check.status == 0, "check after restore: \(check.stdout) \(check.stderr)")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sql(figures) == (try sql(last, figures)))
    }

    /// A stored status this release does not know stopped every later list of its tenant
    /// (`serve --once` exited 1, `list` failed): the next start fails that request with an
    /// error outcome, and the engine and the lists go on.
    @Test func anUnknownStoredStatusFailsItsRequestAtTheNextStart() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.serveUntil { spool.list(spool.results("acme")).contains("MOME-000000001") }
        #expect(try spool.run(["serve", "--once"]).status == 0)
        _ = try spool.sql("UPDATE requests SET status = 'paused' WHERE id = 1")
        try FileManager.default.copyItem(atPath: samplesDirectory + "/requests/acme-clean.csv", toPath: spool.incoming("acme") + "/again.csv")
        let once = try spool.run(["serve", "--once"])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(once.stderr.contains("request_failed") && once.stderr.contains("paused"), "\(once.stderr)")
        let stato = try spool.stato(tenant: "acme", id: "MOME-000000001")
        #expect(stato["status"] as? String == "rejected")
        #expect((stato["reason"] as? String)?.hasPrefix("Errore Interno") == true, "\(stato)")
        #expect(try spool.stato(tenant: "acme", id: "MOME-000000002")["status"] as? String == "done")
        let list = try spool.run(["list", "--tenant", "acme"])
        #expect(list.status == 0 && list.stdout.contains("MOME-000000002"), "\(list.stderr)")
    }

    /// `check` passes a healthy spool, then names each planted problem and where it is.
    @Test func checkFindsEachPlantedProblem() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.serveUntil { spool.list(spool.results("acme")).contains("MOME-000000001") }
        let healthy = try spool.run(["check"])
        #expect(healthy.status == 0, "check: \(healthy.stdout) \(healthy.stderr)")
        #expect(healthy.stdout == "OK\n")

        // A claim that no request records, a temporary file in a result folder and one in
        // results/, and a result folder of no request.
        try FileManager.default.createDirectory(atPath: spool.claim("acme"), withIntermediateDirectories: true)
        let claim = spool.claim("acme") + "/0000000001-000000042-lost.csv"
        try "POD;x;y\r\n".write(toFile: claim, atomically: false, encoding: .utf8)
        let inFolder = spool.results("acme") + "/MOME-000000001/.tmp.123.1.abc"
        try "half".write(toFile: inFolder, atomically: false, encoding: .utf8)
        let inResults = spool.results("acme") + "/richieste.csv.tmp"
        try "half".write(toFile: inResults, atomically: false, encoding: .utf8)
        let stray = spool.results("acme") + "/MOME-000000099"
        try FileManager.default.createDirectory(atPath: stray, withIntermediateDirectories: true)
        var r = try spool.run(["check"])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix(claim + ": ") && $0.contains("not recorded") })
        #expect(lines.contains { $0.hasPrefix(inFolder + ": ") && $0.contains("temporary") })
        #expect(lines.contains { $0.hasPrefix(inResults + ": ") && $0.contains("temporary") })
        #expect(lines.contains { $0.hasPrefix(stray + ": ") && $0.contains("no request") })

        // Cleared, and the written request's folder taken away instead: missing.
        for path in [claim, inFolder, inResults, stray] { try FileManager.default.removeItem(atPath: path) }
        let folder = spool.results("acme") + "/MOME-000000001"
        try FileManager.default.moveItem(atPath: folder, toPath: spool.root + "/moved-away")
        r = try spool.run(["check"])
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix(folder + ": missing"), "\(r.stdout)")
        try FileManager.default.moveItem(atPath: spool.root + "/moved-away", toPath: folder)
        #expect(try spool.run(["check"]).status == 0)

        // A stored value this binary does not know (a hand-edited or damaged record).
        _ = try spool.sql("UPDATE requests SET status = 'paused' WHERE id = 1")
        r = try spool.run(["check"])
        #expect(r.status == 1)
        #expect(r.stdout == spool.database + ": unknown stored value: requests MOME-000000001: status \"paused\" is not a known value\n",
                "\(r.stdout)")
        _ = try spool.sql("UPDATE requests SET status = 'done' WHERE id = 1")
        #expect(try spool.run(["check"]).status == 0)

        // Pages of a file are SQLite's: PostgreSQL's own storage is not massiva's to check.
        guard spool.spoolDatabase.engine == .sqlite else { return }

        // A corrupted page: an index's root page overwritten (the WAL checkpointed into the
        // file first, so the page is read from there). integrity_check says so, with the path.
        _ = try spool.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        let pageSize = try spool.sqlInt("PRAGMA page_size")
        let root = try spool.sqlInt("SELECT rootpage FROM sqlite_master WHERE name = 'audit_by_pod'")
        #expect(root > 1)
        let handle = try #require(FileHandle(forWritingAtPath: spool.database))
        // The page's last bytes: cell content, so the page still parses and integrity_check
        // reports what is wrong with it rather than failing outright.
        try handle.seek(toOffset: UInt64(root * pageSize - 256))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 256))
        try handle.close()
        r = try spool.run(["check"])
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix(spool.database + ": integrity_check"), "\(r.stdout) \(r.stderr)")
    }
}
