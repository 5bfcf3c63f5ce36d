import Foundation
import Glibc
import Testing

/// SIGTERM while probes run: they are killed (with what they started), the daemon exits 0, and
/// the rows they were asked for are tried again later with no attempt spent.
@Suite(.serialized) struct ProbeStopTests {
    @Test func sigtermKillsTheProbesInFlightAndSpendsNothing() throws {
        // The probe's path is named before the harness exists: a folder of its own.
        var template = Array((NSTemporaryDirectory() + "massiva-probe-XXXXXX").utf8CString)
        let folder = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let probe = folder + "/probe"
        try """
            #!/bin/sh
            echo $$ >> "$(dirname "$0")/pids"
            exec sleep 3600
            """.write(toFile: probe, atomically: false, encoding: .utf8)
        chmod(probe, 0o755)
        let h = try DaemonHarness(extra: "probe_command = \(probe) ${pod}\nprobe_timeout = 1h\nprobe_concurrency = 3")
        let daemon = try h.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(h.waitUntil { h.log.contains("started") })
        try h.drop(SampleRows.clean(count: 5), as: "five.csv")
        let pidsPath = folder + "/pids"
        func pids() -> [Int32] {
            ((try? String(contentsOfFile: pidsPath, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        }
        #expect(h.waitUntil { pids().count == 3 }, "three probes running (probe_concurrency)")

        kill(daemon.processIdentifier, SIGTERM)
        #expect(h.waitUntil(60) { !daemon.isRunning })
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0)
        for pid in pids() {
            #expect(h.waitUntil(5) { !isAlive(pid) }, "probe \(pid) outlived the daemon")
        }
        #expect(pids().count == 3, "no probe beyond the bound, none after the stop")
        #expect(h.sql("SELECT status FROM requests") == "queued")
        #expect(h.sql("SELECT count(*) FROM rows") == "0")
        #expect(h.sql("SELECT count(*) FROM associations") == "0")
    }
}

/// A long round of probes does not leave uploads waiting in incoming/: they are claimed
/// (recorded as requests) while the round runs, and processed after it.
@Suite(.serialized) struct ProbeIntakeTests {
    @Test func uploadsAreClaimedWhileProbesRun() throws {
        var template = Array((NSTemporaryDirectory() + "massiva-gate-XXXXXX").utf8CString)
        let folder = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let probe = try gatedProbe(in: folder, seconds: 60)
        let h = try DaemonHarness(extra: "probe_command = \(probe) ${pod}\nprobe_concurrency = 1\nprobe_timeout = 1h")
        let daemon = try h.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(h.waitUntil { h.log.contains("started") })
        try h.drop(SampleRows.clean(count: 1), as: "first.csv")
        #expect(h.waitUntil { access(folder + "/asked", F_OK) == 0 }, "the first probe runs")
        try h.drop(SampleRows.clean(count: 1, firstPOD: 2, firstSID: 2), as: "second.csv")
        #expect(h.waitUntil { h.sql("SELECT count(*) FROM requests") == "2" }, "claimed while the probe waits")
        #expect(h.sql("SELECT status FROM requests ORDER BY id") == "queued\nqueued")
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.incoming("acme")).isEmpty)

        FileManager.default.createFile(atPath: folder + "/open", contents: nil)
        #expect(h.waitUntil(30) { h.sql("SELECT count(*) FROM requests WHERE status = 'done'") == "2" })
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
    }
}

/// The daemon's courier: events delivered after the pass that made them, after an operator's
/// `dissociate` (the wakeup), and again after a failure, by its own timer.
@Suite(.serialized) struct OutboxDaemonTests {
    @Test func theDaemonDeliversRetriesAndFollowsTheServices() throws {
        var template = Array((NSTemporaryDirectory() + "massiva-outbox-XXXXXX").utf8CString)
        let folder = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = folder + "/receiver"
        // Refuses its first call (the receiver is "offline"), then records each event.
        try """
            #!/bin/sh
            dir=$(dirname "$0")
            mkdir "$dir/refused-once" 2>/dev/null && exit 1
            echo "$*" >> "$dir/received"
            """.write(toFile: receiver, atomically: false, encoding: .utf8)
        chmod(receiver, 0o755)
        let h = try DaemonHarness(extra: """
            association_command = \(receiver) ${event} ${pod} ${key}
            association_minimal_backoff_time = 1s
            association_maximal_backoff_time = 1s
            """)
        let daemon = try h.startDaemon()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        #expect(h.waitUntil { h.log.contains("started") })
        func received() -> [String] {
            ((try? String(contentsOfFile: folder + "/received", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        try h.drop(SampleRows.clean(count: 2), as: "two.csv")
        #expect(h.waitUntil(30) { received().count == 2 }, "\(h.log)")
        #expect(h.log.contains("association_deferred"), "the first call was refused")
        #expect(received().map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
                == ["associated IT001E00000001", "associated IT001E00000002"])

        try h.check(["dissociate", "--tenant", "acme", "--pod", "IT001E00000002"])
        #expect(h.waitUntil(30) { received().count == 3 }, "\(h.log)")
        #expect(received().last?.hasPrefix("dissociated IT001E00000002 ") == true)
        #expect(h.sql("SELECT count(*) FROM outbox") == "0")

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
    }
}

private func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}
