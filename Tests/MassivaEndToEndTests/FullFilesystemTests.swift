import Foundation
import Glibc
import Testing

/// A spool on a file system that fills up under a running daemon: the uploads that arrive
/// meanwhile are neither lost nor half recorded, the daemon stays up, and once space is back
/// it takes every one of them, exactly once. The spool is a small tmpfs of its own (root only:
/// CI runs as root), always unmounted, whatever happens.
@Suite struct FullFilesystemTests {
    static let files = ["f1.csv", "f2.csv", "f3.csv"]

    @discardableResult
    func tool(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Polls `condition` until it holds or `seconds` pass (a bound against a hang, not a
    /// timing expectation); returns whether it held.
    func wait(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Writes zeros to `path` until the file system refuses (ENOSPC).
    func fill(_ path: String) -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 65_536)
        var written = 0
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        return written
    }

    /// The requests recorded, or nil when the shell cannot read the database (the sqlite3 CLI,
    /// its file on the full disk; on PostgreSQL the database is elsewhere and always readable).
    func recordedCount(_ spool: Spool) -> Int? {
        (try? spool.spoolDatabase.text("SELECT count(*) FROM requests")).flatMap { Int($0) }
    }

    @Test(.enabled(if: getuid() == 0, "mounts a tmpfs: root only"))
    func fullFileSystemLosesNothingAndResumes() throws {
        let spool = try Spool()
        try FileManager.default.createDirectory(atPath: spool.spool, withIntermediateDirectories: true)
        guard try tool("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", spool.spool]) == 0 else {
            Issue.record("cannot mount a tmpfs on \(spool.spool)")
            return
        }
        defer {
            // Busy only if something still has a file open there: then detached, never left.
            if (try? tool("/bin/umount", [spool.spool])) != 0 { _ = try? tool("/bin/umount", ["-l", spool.spool]) }
        }
        try spool.setUpSamples()
        // The uploads are made before the disk fills, on the same file system, and renamed in
        // once it is full, as an SFTP client's finished uploads would be.
        let staging = spool.spool + "/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for name in Self.files {
            try FileManager.default.copyItem(atPath: samplesDirectory + "/requests/acme-clean.csv", toPath: staging + "/" + name)
        }
        let daemon = try spool.start(["serve"])
        defer {
            if daemon.process.isRunning { Glibc.kill(daemon.process.processIdentifier, SIGTERM) }
            daemon.process.waitUntilExit()
        }
        let log = { (try? String(contentsOfFile: daemon.stderr, encoding: .utf8)) ?? "" }
        #expect(wait(30) { log().contains("started") }, "the daemon did not start: \(log())")

        let filler = spool.spool + "/filler"
        #expect(fill(filler) > 0)
        for name in Self.files { try FileManager.default.moveItem(atPath: staging + "/" + name, toPath: spool.incoming("acme") + "/" + name) }
        // The daemon meets the full disk, says so, and keeps running.
        #expect(wait(30) { log().contains("disk is full") || log().contains("No space left") }, "\(log())")
        #expect(daemon.process.isRunning, "the daemon stopped on a full disk: \(log())")
        // Nothing is lost: each upload is still in incoming/, in the claim folder, or recorded
        // (a commit may still fit in the WAL file's space already allocated; the result files
        // never do). The database is read only when it can be on the full disk.
        let waiting = spool.list(spool.incoming("acme")).filter { Self.files.contains($0) }.count
        let claimed = spool.list(spool.claim("acme")).filter { !$0.hasPrefix(".") }.count
        if let recorded = recordedCount(spool) {
            #expect(waiting + claimed + recorded == Self.files.count,
                    "incoming \(spool.list(spool.incoming("acme"))), claim \(spool.list(spool.claim("acme"))), recorded \(recorded)")
        } else {
            #expect(waiting + claimed <= Self.files.count)
        }

        // Space back: every upload becomes exactly one request, done, with its results.
        try FileManager.default.removeItem(atPath: filler)
        let done = "SELECT count(*) FROM requests WHERE status = 'done' AND file_name IN ('f1.csv', 'f2.csv', 'f3.csv')"
        #expect(try wait(60) { try spool.sqlInt(done) == Self.files.count }, "\(log())")
        #expect(try spool.sqlInt("SELECT count(*) FROM requests") == Self.files.count)
        for id in try spool.sql("SELECT id FROM requests").map({ Int($0[0])! }) {
            let folder = spool.results("acme") + "/" + String(format: "MOME-%09d", id)
            #expect(try wait(30) { FileManager.default.fileExists(atPath: folder + "/stato.json") }, "\(folder)")
        }
        #expect(spool.list(spool.incoming("acme")).isEmpty)
        Glibc.kill(daemon.process.processIdentifier, SIGTERM)
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0)
        let check = try spool.run(["check"])
        #expect(check.status == 0, "check: \(check.stdout) \(check.stderr)")
    }
}
