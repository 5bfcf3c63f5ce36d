import Foundation
import Glibc
import MassivaTestSupport
import Testing

/// The database server crashed and started again while `massiva serve` is in the middle of a
/// pass (issue 20): an outage, not a failure. The daemon keeps running, its pass's work commits
/// nothing half-way, and once the server answers the same files are finished: nothing lost,
/// nothing doubled, no attempt spent on the outage.
@Suite(.serialized) struct PostgresRestartTests {
    /// Three files claimed and probed; the probes held at a gate while the server is killed
    /// (`pg_ctl stop -m immediate`: no checkpoint, recovery from the WAL at the next start), then
    /// let go, so the pass's commit meets a dead connection. Started again, the server is found by
    /// the daemon's next pass (its backoff), and every file is done exactly once.
    @Test func aServerKilledMidPassLosesAndDoublesNothing() throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.stop() }
        let uri = try cluster.createDatabase()
        let name = databaseName(uri)
        let gate = try TemporaryDirectory(prefix: "massiva-gate")
        let probe = try gatedProbe(in: gate.path, seconds: 120)
        let s = try PostgresSpool(database: uri, extra: """
            settle_time = 0s
            minimal_backoff_time = 1s
            maximal_backoff_time = 2s
            probe_command = \(probe) ${pod}
            probe_concurrency = 2
            probe_timeout = 1h
            """)
        for command in [["registry", "import", BuiltProgram.packageRoot + "/samples/registry"],
                        ["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."]] {
            let r = try s.run(command)
            try #require(r.status == 0, "\(command): \(r.stderr)")
        }
        let daemon = try s.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasPrefix("started") } }, "\(s.logLines)")

        let incoming = s.spool + "/tenants/acme/incoming"
        for file in 0..<3 {
            let partial = incoming + "/.f\(file).part"
            try SampleRows.clean(count: 2, firstPOD: 1 + 2 * file, firstSID: 1 + 2 * file)
                .write(toFile: partial, atomically: false, encoding: .utf8)
            try #require(rename(partial, incoming + "/f\(file).csv") == 0)
        }
        #expect(waitUntil(timeout: 60) { access(gate.path + "/asked", F_OK) == 0 }, "a probe runs: the pass is under way")
        #expect(try cluster.psql("SELECT count(*) FROM rows", database: name) == "0")

        try cluster.stopImmediately()
        _ = FileManager.default.createFile(atPath: gate.path + "/open", contents: nil)
        // The pass's commit, or the next pass, meets the dead server: logged, retried later.
        #expect(waitUntil(timeout: 60) { s.logLines.contains { $0.hasPrefix("pass_failed") } }, "\(s.logLines)")
        #expect(daemon.isRunning, "the daemon exited for an outage: \(s.logLines.suffix(5))")

        try cluster.startAgain()
        let finished = waitUntil(timeout: 120) {
            (try? cluster.psql("SELECT count(*) FROM requests WHERE status = 'done'", database: name)) == "3"
        }
        #expect(finished, "\(s.logLines.suffix(20))")
        #expect(daemon.isRunning)

        // Nothing lost, nothing doubled: one request per file, one association per OK row.
        #expect(try cluster.psql("SELECT file_name, count(*) FROM requests GROUP BY file_name ORDER BY file_name", database: name)
                == "f0.csv|1\nf1.csv|1\nf2.csv|1")
        #expect(try cluster.psql("SELECT count(*) FROM rows WHERE code = 'OK'", database: name) == "6")
        #expect(try cluster.psql("SELECT count(*) FROM associations", database: name) == "6")
        #expect(try cluster.psql("""
            SELECT count(*) FROM rows r WHERE r.code = 'OK'
                AND (SELECT count(*) FROM associations a WHERE a.pod = r.pod AND a.sid = r.sid) <> 1
            """, database: name) == "0")
        // The outage spent no attempt: each row was answered at its first.
        #expect(try cluster.psql("SELECT max(attempts) FROM rows", database: name) == "1")
        for file in 0..<3 {
            let request = try cluster.psql("SELECT 'MOME-' || lpad(id::text, 9, '0') FROM requests WHERE file_name = 'f\(file).csv'",
                                           database: name)
            #expect(FileManager.default.fileExists(atPath: s.spool + "/tenants/acme/results/\(request)/esito.csv"), "\(request)")
        }
        let check = try s.run(["check"])
        #expect(check.status == 0, "massiva check: \(check.stdout)\(check.stderr)")

        daemon.terminate()
        #expect(daemon.waitUntilExit(timeout: 60), "\(s.logLines.suffix(5))")
        guard !daemon.isRunning else { return }
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0, "\(s.logLines.suffix(5))")
        // Once the server was back, no connection of the daemon's failed again for having been
        // closed by the restart (each reconnects at its next transaction: `Database.begin`).
        let afterwards = s.logLines.drop { !$0.hasPrefix("done ") }
        #expect(!afterwards.contains { $0.hasPrefix("pass_failed") || $0.hasPrefix("lists_failed") }, "\(afterwards)")
    }
}
