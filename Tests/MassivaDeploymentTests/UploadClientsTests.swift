import Foundation
import Glibc
import Testing

/// Real SFTP clients uploading under the final name, as SIs' clients do, against the package's
/// sshd example and the daemon as the unit runs it (CAP_LEASE): throttled, stopped, cut and
/// resumed, lftp's mirror, a WinSCP-like upload. Every wait is on an event, with a generous
/// deadline; the only fixed waits are the pauses the scenarios are made of.
@Suite(.serialized, .enabled(if: runningAsRoot, "creates Unix users and runs sshd: needs root"),
       .enabled(if: access("/usr/sbin/sshd", X_OK) == 0, "needs openssh-server (scripts/ensure-deps --test installs it)"))
struct UploadClientsTests {
    /// A deployment with one tenant and one SI account, sshd and the daemon running.
    final class Setup {
        let deployment: Deployment
        let tenant: String
        let login: String
        let key: String
        let local: String
        var daemon: Process?

        init(extraConfiguration: String = "") throws {
            deployment = try Deployment()
            do {
                tenant = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
                try deployment.importRegistry(owners: ["acme": tenant])
                (login, key) = try deployment.addAccount(tenant: tenant, base: "sia", name: "Maria Rossi")
                // Files of thousands of rows, so that a throttled client sends them in bursts.
                let configuration = try String(contentsOfFile: deployment.configPath, encoding: .utf8)
                try (configuration + "\nmax_rows = 20000\n" + extraConfiguration + "\n")
                    .write(toFile: deployment.configPath, atomically: false, encoding: .utf8)
                try deployment.startSSHD()
                daemon = try deployment.startDaemon()
                local = deployment.root + "/local"
                try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
            } catch {
                deployment.tearDown()
                throw error
            }
            #expect(deployment.wait(seconds: 20) { deployment.daemonLog.contains("upload_completion mode=lease") },
                    "the daemon does not use leases: \(deployment.daemonLog)")
        }

        func tearDown() { deployment.tearDown() }

        var incoming: String { deployment.spool + "/tenants/\(tenant)/incoming" }
        var results: String { deployment.spool + "/tenants/\(tenant)/results" }

        func stato(_ number: Int) -> [String: Any]? {
            let path = results + String(format: "/MOME-%09d/stato.json", number)
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        }

        func isDone(_ number: Int) -> Bool {
            guard let status = stato(number)?["status"] as? String else { return false }
            return status == "done" || status == "rejected"
        }

        /// The bytes the daemon kept of request `number` (its richiesta.csv).
        func request(_ number: Int) -> Data? {
            FileManager.default.contents(atPath: results + String(format: "/MOME-%09d/richiesta.csv", number))
        }

        /// The requests made so far.
        var requestCount: Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []).filter { $0.hasPrefix("MOME-") }.count
        }

        /// `sftp -b -` with `options` (e.g. `-l 400`), started.
        func startSFTP(_ options: [String], _ commands: [String]) throws -> StartedProgram {
            try start(["sftp", "-q"] + options + ["-b", "-", "-i", key, "-P", String(deployment.sshPort),
                      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                      "-o", "LogLevel=ERROR", login + "@127.0.0.1"],
                     input: commands.joined(separator: "\n") + "\n")
        }

        /// The size of `incoming/<name>`, nil when absent.
        func uploadedSize(_ name: String) -> Int? {
            var status = stat()
            return lstat(incoming + "/" + name, &status) == 0 ? Int(status.st_size) : nil
        }
    }

    /// A bulk file of `rows` rows (PODs and devices the registry does not have: each row is
    /// answered at once, never retried) in which no cut at a multiple of 1 KiB falls right after a
    /// line end: sftp writes whole packets (32 KiB, or the server's 255 KiB), so a transfer cut
    /// anywhere leaves a file that does not end with one, as almost every cut one does.
    static func bulk(rows: Int, first: Int = 0) -> [UInt8] {
        var bytes = Array("POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n".utf8)
        for i in first..<(first + rows) {
            let plain = Array(String(format: "IT001E5%07d;16MOMSPC35%07d;Standard\r\n", i, i).utf8)
            let end = bytes.count + plain.count  // the size just after this row's \n
            if end % 1024 == 0 || (end - 1) % 1024 == 0 {
                bytes += Array(String(format: "IT001E5%07d;16MOMSPC35%07d;\"Standard\"\r\n", i, i).utf8)
            } else {
                bytes += plain
            }
        }
        return bytes
    }

    @Test func aThrottledUploadIsTakenWholeOnce() throws {
        let s = try Setup()
        defer { s.tearDown() }
        let bytes = Self.bulk(rows: 8000)  // 360 KB: at 400 kbit/s, bursts seconds apart
        try Data(bytes).write(to: URL(fileURLWithPath: s.local + "/throttled.csv"))
        let upload = try s.startSFTP(["-l", "400"], ["put \(s.local)/throttled.csv incoming/throttled.csv"]).finish()
        #expect(upload.status == 0, "sftp: \(upload.errors); sshd: \(s.deployment.sshdLog.suffix(1500))")
        #expect(s.deployment.wait(seconds: 60) { s.isDone(1) }, "\(s.deployment.daemonLog)")
        #expect(s.stato(1)?["rows_total"] as? Int == 8000)
        #expect(s.request(1) == Data(bytes), "the request is not the whole upload")
        #expect(s.requestCount == 1)
    }

    @Test func aClientStoppedMidTransferThenContinuedMakesOneWholeRequest() throws {
        let s = try Setup()
        defer { s.tearDown() }
        let bytes = Self.bulk(rows: 8000)
        try Data(bytes).write(to: URL(fileURLWithPath: s.local + "/stopped.csv"))
        let upload = try s.startSFTP(["-l", "800"], ["put \(s.local)/stopped.csv incoming/stopped.csv"])
        #expect(s.deployment.wait(seconds: 60) { (s.uploadedSize("stopped.csv") ?? 0) > 0 }, "the upload never started")
        kill(upload.processIdentifier, SIGSTOP)
        // Stopped for three times the settle time, its file half written and open on the server.
        sleep(3)
        let sizeWhileStopped = s.uploadedSize("stopped.csv")
        #expect(sizeWhileStopped != nil && sizeWhileStopped! < bytes.count, "taken, or already whole: \(String(describing: sizeWhileStopped))")
        #expect(s.requestCount == 0, "taken while its client was stopped")
        kill(upload.processIdentifier, SIGCONT)
        let finished = upload.finish()
        #expect(finished.status == 0, "sftp: \(finished.errors); sshd: \(s.deployment.sshdLog.suffix(1500))")
        #expect(s.deployment.wait(seconds: 60) { s.isDone(1) }, "\(s.deployment.daemonLog)")
        #expect(s.stato(1)?["rows_total"] as? Int == 8000)
        #expect(s.request(1) == Data(bytes))
        #expect(s.requestCount == 1)
    }

    @Test func anInterruptedPutResumedWithReputMakesOneWholeRequest() throws {
        let s = try Setup()
        defer { s.tearDown() }
        let bytes = Self.bulk(rows: 8000)
        try Data(bytes).write(to: URL(fileURLWithPath: s.local + "/cut.csv"))
        let upload = try s.startSFTP(["-l", "800"], ["put \(s.local)/cut.csv incoming/cut.csv"])
        #expect(s.deployment.wait(seconds: 60) { (s.uploadedSize("cut.csv") ?? 0) > 0 }, "the upload never started")
        // The connection lost: the client killed, its ssh sees the end of its pipe and goes.
        kill(upload.processIdentifier, SIGKILL)
        let killed = upload.finish()
        #expect(killed.status != 0)
        #expect(s.deployment.wait(seconds: 60) { s.deployment.daemonLog.contains("upload_cut_short tenant=\(s.tenant) file=cut.csv") },
                "the cut upload was not recognised: \(s.deployment.daemonLog)")
        #expect(s.requestCount == 0, "a cut upload became a request")
        #expect((s.uploadedSize("cut.csv") ?? 0) < bytes.count)
        // The SI resumes it: reput finds the file where it was and appends the rest.
        let resumed = try s.startSFTP([], ["reput \(s.local)/cut.csv incoming/cut.csv"]).finish()
        #expect(resumed.status == 0, "reput: \(resumed.errors); sshd: \(s.deployment.sshdLog.suffix(1500))")
        #expect(s.deployment.wait(seconds: 60) { s.isDone(1) }, "\(s.deployment.daemonLog)")
        #expect(s.stato(1)?["rows_total"] as? Int == 8000)
        #expect(s.stato(1)?["note"] is NSNull, "a resumed upload answered as cut: \(String(describing: s.stato(1)?["note"]))")
        #expect(s.request(1) == Data(bytes))
        #expect(s.requestCount == 1)
        #expect(s.deployment.daemonLog.contains("upload_resumed tenant=\(s.tenant) file=cut.csv"))
    }

    @Test func lftpMirrorOfAFolderExitsZeroWithOneRequestPerFile() throws {
        guard access("/usr/bin/lftp", X_OK) == 0 else {
            Issue.record("lftp is not installed (scripts/ensure-deps --test installs it)")
            return
        }
        let s = try Setup()
        defer { s.tearDown() }
        let folder = s.local + "/mirror"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let files = 20
        var sent: [String: [UInt8]] = [:]
        for i in 0..<files {
            let bytes = Self.bulk(rows: 3, first: 100 + 3 * i)
            sent[String(format: "lotto-%02d.csv", i)] = bytes
            let path = folder + String(format: "/lotto-%02d.csv", i)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            // Dated a year ago: lftp sets this date on each upload right after its close, then its mode.
            var times = [timespec(tv_sec: time(nil) - 365 * 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) - 365 * 86_400, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, path, &times, 0)
        }
        let connect = "ssh -a -x -i \(s.key) -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
        let script = "set sftp:connect-program \"\(connect)\"; set net:max-retries 1; set net:timeout 30; "
            + "open -u \(s.login), -p \(s.deployment.sshPort) sftp://127.0.0.1; mirror -R \(folder) /incoming; bye"
        let mirror = try run(["lftp", "-c", script])
        #expect(mirror.status == 0, "lftp mirror -R: \(mirror.output) \(mirror.errors)")
        #expect(!mirror.errors.contains("chmod") && !mirror.output.contains("chmod"), "\(mirror.errors)")
        #expect(s.deployment.wait(seconds: 60) { (1...files).allSatisfy { s.isDone($0) } }, "\(s.deployment.daemonLog)")
        #expect(s.requestCount == files)
        var received: [String: [UInt8]] = [:]
        for number in 1...files {
            if let name = s.stato(number)?["file"] as? String, let data = s.request(number) { received[name] = Array(data) }
        }
        #expect(received == sent, "the requests are not the mirrored files, one each")
    }

    @Test func aWinSCPLikeUploadIsTakenOnceItsDateIsSet() throws {
        let s = try Setup()
        defer { s.tearDown() }
        let bytes = Self.bulk(rows: 5, first: 500)
        try Data(bytes).write(to: URL(fileURLWithPath: s.local + "/winscp.csv"))
        // WinSCP: the upload under a .filepart name, renamed, then its date set (preserve
        // timestamp: the local file's, in the past) by path, after the rename. curl's SFTP does
        // the same three steps on one connection.
        let upload = try run(["curl", "--silent", "--show-error", "--insecure", "--key", s.key, "--pubkey", s.key + ".pub",
                              "--user", s.login + ":", "--upload-file", s.local + "/winscp.csv",
                              "--quote", "-rename /incoming/winscp.csv.filepart /incoming/winscp.csv",
                              "--quote", "-mtime \"Wed, 01 Jan 2020 12:00:00 GMT\" /incoming/winscp.csv",
                              "sftp://127.0.0.1:\(s.deployment.sshPort)/incoming/winscp.csv.filepart"])
        #expect(upload.status == 0, "curl: \(upload.errors)")
        #expect(s.deployment.wait(seconds: 60) { s.isDone(1) }, "\(s.deployment.daemonLog)")
        #expect(s.stato(1)?["file"] as? String == "winscp.csv")
        #expect(s.request(1) == Data(bytes))
        #expect(s.requestCount == 1)
    }
}
