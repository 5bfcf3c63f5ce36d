import Foundation
import Glibc
import Testing
import MassivaTestSupport

/// Active/passive with real processes (issue 21): two `massiva serve` of different `node_name`
/// on one spool folder and one database (SQLite, or PostgreSQL with `MASSIVA_TEST_DATABASE`),
/// a short `leader_lease_time`. Every wait is on an event (a log line, the database's state)
/// with a generous deadline; nothing asserts a time.
/// After each fault: every file exactly one request, every OK row exactly one association,
/// `massiva check` clean.
@Suite(.serialized) struct FailoverTests {
    /// A spool shared by node alpha (the harness's configuration and log) and node beta (its own).
    final class Pair {
        let h: DaemonHarness
        var configB: String { h.root + "/beta.cf" }
        var logB: String { h.root + "/beta.log" }
        var alpha: SpawnedProcess?
        var beta: SpawnedProcess?

        init(probe: String = "", database: SpoolDatabase? = nil) throws {
            h = try DaemonHarness(settleTime: "0s", rescanInterval: "1s", extra: """
                leader_lease_time = 2s
                node_name = alpha
                \(probe)
                """, database: database)
            // Each node its own metrics file, as each host has.
            let config = try String(contentsOfFile: h.configPath, encoding: .utf8)
            try (config + "\nmetrics_file = \(h.root)/alpha.prom\n").write(toFile: h.configPath, atomically: true, encoding: .utf8)
            try (config.replacingOccurrences(of: "node_name = alpha", with: "node_name = beta") + "\nmetrics_file = \(h.root)/beta.prom\n")
                .write(toFile: configB, atomically: true, encoding: .utf8)
        }

        deinit {
            // A stopped process dies of SIGKILL too; the harness removes the spool.
            for process in [alpha, beta].compactMap({ $0 }) where process.isRunning {
                process.signal(SIGKILL)
                process.waitUntilExit()
            }
        }

        /// Each daemon's PostgreSQL sessions are named after its node (libpq's `PGAPPNAME`, the
        /// `application_name` of pg_stat_activity), so a test can find them.
        func startAlpha() throws { alpha = try h.startDaemon(environment: ["PGAPPNAME": "massiva-alpha"]) }
        func startBeta() throws {
            beta = try SpawnedProcess([DaemonHarness.binary, "serve"], environment: ["MASSIVA_CONFIG": configB, "PGAPPNAME": "massiva-beta"],
                                      standardOutput: .discard, standardError: .appending(logB))
        }

        var logA: String { h.log }
        var logBText: String { (try? String(contentsOfFile: logB, encoding: .utf8)) ?? "" }

        static func lines(_ log: String, _ event: String) -> [Substring] {
            log.split(separator: "\n").filter { $0 == event || $0.hasPrefix(event + " ") }
        }

        /// The files named `prefix-NN.csv`, one clean row each, PODs and SIDs from `first`.
        func drop(_ count: Int, prefix: String, first: Int) throws {
            for k in 0..<count {
                try h.drop(SampleRows.clean(count: 1, firstPOD: first + k, firstSID: first + k),
                           as: String(format: "%@-%02d.csv", prefix, k))
            }
        }

        func finished() -> Int {
            Int(h.sql("SELECT count(*) FROM requests WHERE status IN ('done', 'rejected', 'cancelled')") ?? "") ?? -1
        }

        /// The invariants, after every fault.
        func expectConsistent(files: Int) throws {
            #expect(h.sql("SELECT count(*) FROM requests") == String(files))
            #expect(h.sql("SELECT count(*) FROM (SELECT file_name FROM requests GROUP BY tenant, file_name HAVING count(*) <> 1) AS twice") == "0",
                    "a file with more than one request")
            #expect(h.sql("SELECT count(*) FROM requests WHERE status <> 'done'") == "0")
            let okRows = h.sql("SELECT count(*) FROM rows WHERE code = 'OK'")
            #expect(okRows == String(files))
            #expect(h.sql("SELECT count(*) FROM associations") == okRows)
            #expect(h.sql("""
                SELECT count(*) FROM rows r WHERE r.code = 'OK' AND (SELECT count(*) FROM associations a
                    WHERE a.pod = r.pod AND a.sid = r.sid AND a.request = \(h.database.dialect(sqlite: "printf('MOME-%09d', r.request)", postgresql: "'MOME-' || lpad(r.request::text, 9, '0')"))) <> 1
                """) == "0", "an OK row without exactly one association")
            let check = try h.run(["check"])
            #expect(check.status == 0, "massiva check: \(check.output)")
        }
    }

    @Test func killingTheLeaderDuringABacklogHandsTheSpoolToTheStandby() throws {
        // Probes of 0.2 s one at a time: 30 files are a backlog of some seconds.
        let p = try Pair(probe: "probe_command = /bin/sleep 0.2\nprobe_concurrency = 1")
        try p.startAlpha()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logA, "leader").isEmpty }, "alpha never led: \(p.logA)")
        try p.startBeta()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logBText, "standby").isEmpty }, "beta never stood by: \(p.logBText)")
        #expect(Pair.lines(p.logBText, "standby").first?.contains("leader_node=alpha") == true)

        try p.drop(30, prefix: "backlog", first: 1)
        #expect(p.h.waitUntil(60) { p.finished() >= 3 }, "alpha processed nothing")
        p.alpha?.signal(SIGKILL)
        p.alpha?.waitUntilExit()
        let killedAt = Date()
        #expect(p.finished() < 30, "the kill came after the backlog: the test proved little")

        #expect(p.h.waitUntil(60) { !Pair.lines(p.logBText, "leader").isEmpty }, "beta never took over: \(p.logBText)")
        // The measure the issue names (lease + 5 s), printed, not asserted: no timing assertions.
        print("failover after kill -9: beta leads \(String(format: "%.2f", Date().timeIntervalSince(killedAt))) s after the kill (lease 2 s)")
        #expect(Pair.lines(p.logBText, "leader").first?.contains("term=2") == true)
        #expect(p.h.waitUntil(120) { p.finished() == 30 }, "beta did not finish the backlog: \(p.logBText)")
        try p.expectConsistent(files: 30)

        let status = try p.h.run(["status"], environment: ["MASSIVA_CONFIG": p.configB])
        #expect(status.status == 0)
        #expect(status.output.contains("leader: node beta") && status.output.contains("term 2"), "\(status.output)")
        #expect(status.output.contains("this node (beta): leader"), "\(status.output)")
        let metrics = { (try? String(contentsOfFile: p.h.root + "/beta.prom", encoding: .utf8)) ?? "" }
        #expect(p.h.waitUntil(60) { metrics().contains("massiva_leader{node=\"beta\"} 1") && metrics().contains("massiva_leader_term 2") },
                "beta's metrics: \(metrics())")
    }

    /// An outbox delivery cut off by a failover (issue 21, item 5): the leader is killed while
    /// `association_command` has the event; the new leader delivers it again with the same
    /// `${event_id}`, and nothing is lost.
    @Test func anOutboxDeliveryCutOffByAFailoverIsMadeAgainWithTheSameKey() throws {
        let folder = try TemporaryDirectory(prefix: "massiva-outbox-failover")
        let receiver = folder.path + "/receiver"
        // The first delivery records itself, says it is held and waits (the leader dies meanwhile);
        // every later one records itself and succeeds.
        try """
            #!/bin/sh
            echo "$*" >> "\(folder.path)/received"
            if mkdir "\(folder.path)/first" 2>/dev/null; then
                echo $$ > "\(folder.path)/held"
                exec sleep 60
            fi
            exit 0
            """.write(toFile: receiver, atomically: true, encoding: .utf8)
        chmod(receiver, 0o755)
        defer {
            if let pid = (try? String(contentsOfFile: folder.path + "/held", encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                kill(pid, SIGKILL)
            }
        }
        let p = try Pair(probe: """
            association_command = \(receiver) ${event_id} ${event} ${pod}
            association_minimal_backoff_time = 1s
            association_maximal_backoff_time = 2s
            """)
        let received = { ((try? String(contentsOfFile: folder.path + "/received", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        try p.startAlpha()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logA, "leader").isEmpty }, "alpha never led: \(p.logA)")
        try p.startBeta()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logBText, "standby").isEmpty }, "beta never stood by: \(p.logBText)")

        try p.drop(1, prefix: "event", first: 1)
        #expect(p.h.waitUntil(60) { FileManager.default.fileExists(atPath: folder.path + "/held") }, "no delivery began: \(p.logA)")
        p.alpha?.signal(SIGKILL)
        p.alpha?.waitUntilExit()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logBText, "leader").isEmpty }, "beta never took over: \(p.logBText)")
        #expect(p.h.waitUntil(120) { received().count >= 2 && p.h.sql("SELECT count(*) FROM outbox") == "0" },
                "beta did not deliver the event again: \(received()) \(p.logBText)")
        let lines = received()
        #expect(lines.count == 2, "\(lines)")
        let first = lines.first?.split(separator: " ") ?? [], again = lines.last?.split(separator: " ") ?? []
        #expect(first.count == 3 && first == again, "the same event, with the same key, both times: \(lines)")
        #expect(first.dropFirst().first == "associated", "\(lines)")
        try p.expectConsistent(files: 1)
    }

    @Test func aLeaderPausedForThreeLeasesCommitsNothingWhenItResumes() throws {
        let p = try Pair()
        try p.startAlpha()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logA, "leader").isEmpty }, "alpha never led: \(p.logA)")
        try p.startBeta()
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logBText, "standby").isEmpty }, "beta never stood by: \(p.logBText)")
        try p.drop(10, prefix: "before", first: 1)
        #expect(p.h.waitUntil(60) { p.finished() == 10 }, "alpha did not process the first files")

        // Paused: files arrive meanwhile; beta takes over after the lease expires.
        p.alpha?.signal(SIGSTOP)
        let stoppedAt = Date()
        try p.drop(10, prefix: "paused", first: 11)
        #expect(p.h.waitUntil(60) { !Pair.lines(p.logBText, "leader").isEmpty }, "beta never took over: \(p.logBText)")
        #expect(p.h.waitUntil(60) { p.finished() == 20 }, "beta did not process the files that came meanwhile: beta: \(p.logBText) alpha: \(p.logA)")
        // Paused for at least three leases (6 s), files still arriving: one at a time, each
        // waited for until beta has done it (at most 10: acme has 40 SIDs in the samples).
        var k = 0
        while Date().timeIntervalSince(stoppedAt) < 6 {
            if k < 10 {
                try p.drop(1, prefix: "more\(k)", first: 21 + k)
                k += 1
                #expect(p.h.waitUntil(60) { p.finished() == 20 + k })
            } else {
                p.h.waitUntil(6) { Date().timeIntervalSince(stoppedAt) >= 6 }
            }
        }
        let logAtResume = p.logA
        p.alpha?.signal(SIGCONT)

        // Alpha stands down (its trust lapsed while it was stopped, or its renewal is refused).
        #expect(p.h.waitUntil(60) { Pair.lines(String(p.logA.dropFirst(logAtResume.count)), "standby").count >= 1 },
                "alpha did not stand down: \(p.logA)")
        try p.drop(5, prefix: "after", first: 21 + k)
        let total = 25 + k
        #expect(p.h.waitUntil(60) { p.finished() == total }, "the files after the resume were not processed")
        // Nothing of alpha's after the resume: no upload taken, no request finished.
        let sinceResume = String(p.logA.dropFirst(logAtResume.count))
        for event in ["accepted", "rejected", "done", "deferred", "leader"] {
            #expect(Pair.lines(sinceResume, event).isEmpty, "alpha logged \(event) after it resumed: \(sinceResume)")
        }
        try p.expectConsistent(files: total)
        #expect(p.alpha?.isRunning == true && p.beta?.isRunning == true)

        let status = try p.h.run(["status"])  // alpha's view
        #expect(status.output.contains("leader: node beta") && status.output.contains("this node (alpha): standby"), "\(status.output)")
    }
}
