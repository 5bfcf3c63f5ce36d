import Foundation
import Glibc
import MassivaTestSupport
import Testing

/// The daemon and uploads written straight under their final name, with the package's
/// `settle_time` (2 s): files held open by the test, closed, dated in the past, cut short.
@Suite(.serialized) struct UploadCompletionDaemonTests {
    static func start(_ h: DaemonHarness) throws -> SpawnedProcess {
        let daemon = try h.startDaemon()
        #expect(h.waitUntil { h.log.contains("upload_completion mode=lease") }, "\(h.log)")
        return daemon
    }

    static func stop(_ daemon: SpawnedProcess) {
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
    }

    @Test func aWriterThatPausesWithTheFileOpenIsNeverTakenAndAClosedOneIsTakenWhole() throws {
        let h = try DaemonHarness(settleTime: "2s")
        let daemon = try Self.start(h)
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let text = SampleRows.clean(count: 30)
        let bytes = Array(text.utf8)
        let path = h.incoming("acme") + "/slow.csv"
        var fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        // Closed once: the test closes it below, and a second close would close whatever this
        // process (another suite's thread: an SQLite WAL file) has opened under that number since.
        defer { if fd >= 0 { close(fd) } }
        #expect(write(fd, bytes, bytes.count / 2) == bytes.count / 2)
        // A stalled connection: longer than the settle time, the file open all along. (The old
        // rule took it after 2 s of an unchanged modification time, cut.)
        sleep(4)
        #expect(FileManager.default.fileExists(atPath: path), "taken while its writer held it open")
        #expect(h.stato("acme", "MOME-000000001") == nil)
        let rest = Array(bytes[(bytes.count / 2)...])
        #expect(write(fd, rest, rest.count) == rest.count)
        #expect(close(fd) == 0)
        fd = -1
        #expect(h.waitUntil { h.stato("acme", "MOME-000000001")?["status"] as? String == "done" }, "\(h.log)")
        #expect(h.stato("acme", "MOME-000000001")?["rows_total"] as? Int == 30)
        #expect(h.stato("acme", "MOME-000000001")?["rows_failed"] as? Int == 0)
        #expect(h.stato("acme", "MOME-000000002") == nil)
        Self.stop(daemon)
    }

    @Test func aPreservedOldDateAndAChmodRightAfterTheCloseStillFindTheFile() throws {
        let h = try DaemonHarness(settleTime: "2s")
        let daemon = try Self.start(h)
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        for i in 0..<5 {
            // lftp's sequence: write under the final name, close, set the local file's date (a
            // year ago), chmod, each request 50 ms after the previous one (a client's round trip
            // over a WAN link). Each must find the file in incoming/. (The old rule, an mtime
            // settle_time old, took the file as soon as its date was set: the chmod failed.)
            let path = h.incoming("acme") + "/dated-\(i).csv"
            try SampleRows.clean(count: 2, firstPOD: 1 + 2 * i, firstSID: 1 + 2 * i).write(toFile: path, atomically: false, encoding: .utf8)
            usleep(50_000)
            var times = [timespec(tv_sec: time(nil) - 365 * 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) - 365 * 86_400, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0, "setstat of the date: errno \(errno)")
            usleep(50_000)
            #expect(chmod(path, 0o644) == 0, "chmod after the close: errno \(errno)")
        }
        #expect(h.waitUntil { (1...5).allSatisfy { h.stato("acme", String(format: "MOME-%09d", $0))?["status"] as? String == "done" } },
                "\(h.log)")
        #expect(h.stato("acme", "MOME-000000006") == nil)
        Self.stop(daemon)
    }

    @Test func anUploadCutShortIsAnsweredAsSuchOnceResumeTimeHasPassed() throws {
        let h = try DaemonHarness(settleTime: "2s", extra: "resume_time = 1s")
        let daemon = try Self.start(h)
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let whole = SampleRows.clean(count: 10)
        try String(whole.dropLast(15)).write(toFile: h.incoming("acme") + "/cut.csv", atomically: false, encoding: .utf8)
        #expect(h.waitUntil { h.log.contains("upload_cut_short tenant=acme file=cut.csv") }, "\(h.log)")
        #expect(h.waitUntil { (h.stato("acme", "MOME-000000001")?["note"] as? String)?.contains("interrotto") == true }, "\(h.log)")
        #expect(h.stato("acme", "MOME-000000001")?["rows_total"] as? Int == 10)
        Self.stop(daemon)
    }
}
