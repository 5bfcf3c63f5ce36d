import Foundation
import Glibc
import Testing
import MassivaTestSupport

/// SIGKILL in the middle of `serve --once` on a backlog, repeatedly, then a run to completion:
/// every file becomes exactly one request, every row ends, nothing is associated twice.
@Suite struct CrashTests {
    static let files = 60
    static let rowsPerFile = 100

    static func pod(_ i: Int) -> String { "IT001E" + String(20_000_000 + i) }
    static func sid(_ i: Int) -> String { "16MOMSPC3" + String(20_000_000 + i) }

    /// A registry big enough for every row; every 20th row names an unknown POD (POD_NOT_FOUND),
    /// every 25th a device of another tenant.
    func writeRegistry(_ directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var pods = "pod,eneltel,matricola,meter_type,exchange_pod,telemanaged,eligible,reachability,holder_tax_code\n"
        var devices = "sid,nid,device_type,owner\n"
        for i in 0..<(Self.files * Self.rowsPerFile) {
            pods += "\(Self.pod(i)),\(100_000_000 + i),MAT\(10_000_000_000 + i),M1,,true,true,reachable,RSSMRA80A01H501U\n"
            devices += "\(Self.sid(i)),DC26\(20_000_000 + i),MOME,\(i % 25 == 7 ? "other" : "acme")\n"
        }
        try pods.write(toFile: directory + "/pods.csv", atomically: false, encoding: .utf8)
        try devices.write(toFile: directory + "/devices.csv", atomically: false, encoding: .utf8)
    }

    func file(_ k: Int) -> String {
        var text = "POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n"
        for j in 0..<Self.rowsPerFile {
            let i = k * Self.rowsPerFile + j
            let pod = j % 20 == 3 ? "IT009E" + String(20_000_000 + i) : Self.pod(i)
            text += "\(pod);\(Self.sid(i));Standard\r\n"
        }
        return text
    }

    /// Polls (no fixed sleep) until `condition` holds or the process ends; then SIGKILL.
    /// Returns whether the kill landed on a running process.
    /// `aDayAhead`: `serve --once` runs with its clock a day ahead (`Spool.startADayAhead`).
    func kill(_ spool: Spool, aDayAhead: Bool = false, when condition: () -> Bool) throws -> Bool {
        let started = try aDayAhead ? spool.startADayAhead(["serve", "--once"]) : spool.start(["serve", "--once"])
        let deadline = Date().addingTimeInterval(60)
        while started.process.isRunning && !condition() && Date() < deadline { usleep(200) }
        if started.process.isRunning {
            // A day ahead, massiva runs under the `faketime` wrapper, which forks and waits:
            // massiva (the wrapper's child) must die too, or it would go on holding the spool's
            // lock. The wrapper first (so it reports the kill, not its child's death), then the
            // child, waited for until it has exited (gone, or a zombie: its files are closed).
            let pid = started.process.processIdentifier
            let children = aDayAhead
                ? ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
                    .split(separator: " ").compactMap { pid_t($0) }
                : []
            Glibc.kill(pid, SIGKILL)
            for child in children {
                Glibc.kill(child, SIGKILL)
                _ = waitUntil(timeout: 30) {
                    let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
                    return stat.isEmpty || stat.contains(") Z ")
                }
            }
        }
        let result = spool.finish(started)
        if !result.killed { #expect(result.status == 0, "serve --once: \(result.stderr)") }
        return result.killed
    }

    func resultFolders(_ spool: Spool) -> [String] {
        spool.list(spool.results("acme")).filter { $0.hasPrefix("MOME-") }
    }

    @Test func killedInTheMiddleNothingIsLostOrDoubled() throws {
        let spool = try Spool()
        try writeRegistry(spool.root + "/registry")
        try spool.ok(["registry", "import", spool.root + "/registry"])
        try spool.ok(["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."])
        let names = (0..<Self.files).map { String(format: "batch-%03d.csv", $0) }
        // Written elsewhere and renamed in, as an SFTP client with temporary names would.
        for (k, name) in names.enumerated() {
            let staging = spool.root + "/" + name
            try file(k).write(toFile: staging, atomically: false, encoding: .utf8)
            #expect(rename(staging, spool.incoming("acme") + "/" + name) == 0)
        }

        var landed = 0
        // 1: as soon as the intake has claimed something.
        if try kill(spool, when: { !spool.list(spool.claim("acme")).isEmpty || spool.list(spool.incoming("acme")).count < names.count }) { landed += 1 }
        // 2: once every upload is claimed: recording and processing.
        if try kill(spool, when: { spool.list(spool.incoming("acme")).isEmpty }) { landed += 1 }
        // 3: when the first results appear.
        let before = resultFolders(spool).count
        if try kill(spool, when: { resultFolders(spool).count > before }) { landed += 1 }
        // 4, 5: later and later into the result files.
        for target in [names.count / 3, 2 * names.count / 3] {
            if try kill(spool, when: { resultFolders(spool).count >= target }) { landed += 1 }
        }
        // 6: straight after start, whatever it is doing.
        if try kill(spool, when: { true }) { landed += 1 }
        print("crash test: \(landed) of 6 kills landed on a running serve --once")
        #expect(landed >= 2, "too few kills landed on a running serve (\(landed)): the test proved little")

        // Now to completion, twice (the second run must find nothing to do).
        try spool.ok(["serve", "--once"])
        try spool.ok(["serve", "--once"])

        // Each file exactly once.
        #expect(try spool.sqlInt("SELECT count(*) FROM requests") == names.count)
        let recorded = try spool.sql("SELECT file_name FROM requests ORDER BY file_name").map { $0[0] }
        #expect(recorded == names, "duplicates or losses: \(recorded.count) requests")
        #expect(try spool.sqlInt("SELECT count(*) FROM requests WHERE status <> 'done'") == 0)
        // Every row has a final state, and the right number of rows per request.
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == names.count * Self.rowsPerFile)
        #expect(try spool.sqlInt("SELECT count(*) FROM rows WHERE state NOT IN ('ok', 'error')") == 0)
        #expect(try spool.sql("SELECT request FROM rows GROUP BY request HAVING count(*) <> \(Self.rowsPerFile)").isEmpty)
        // Associations match the OK rows, one per POD and one per device.
        let okRows = try spool.sqlInt("SELECT count(*) FROM rows WHERE code = 'OK'")
        let expectedOK = (0..<(Self.files * Self.rowsPerFile)).filter { ($0 % Self.rowsPerFile) % 20 != 3 && $0 % 25 != 7 }.count
        #expect(okRows == expectedOK)
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == okRows)
        #expect(try spool.sqlInt("SELECT count(DISTINCT pod) FROM rows WHERE code = 'OK'") == okRows)
        #expect(try spool.sqlInt("SELECT count(DISTINCT sid) FROM associations") == okRows)
        #expect(try spool.sql("SELECT code, count(*) FROM rows WHERE code <> 'OK' GROUP BY code ORDER BY code").map { $0[0] }
                == ["DEVICE_NOT_OWNED", "POD_NOT_FOUND"])
        // The folders: nothing left in incoming or claim, no temporary file in results.
        #expect(spool.list(spool.incoming("acme")).isEmpty)
        #expect(spool.list(spool.claim("acme")).isEmpty)
        let results = spool.walk(spool.results("acme"))
        let temporary = results.filter { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.contains(".tmp") || name.hasPrefix(".")
        }
        #expect(temporary.isEmpty, "\(temporary)")
        // Result files agree with the database.
        let folders = resultFolders(spool)
        #expect(folders.count == names.count)
        for folder in folders {
            let stato = try spool.stato(tenant: "acme", id: folder)
            #expect(stato["status"] as? String == "done", "\(folder)")
            #expect(try spool.esito(tenant: "acme", id: folder).count == Self.rowsPerFile, "\(folder)")
        }
        let listed = try spool.requestList("acme")
        #expect(listed.count == names.count)
        #expect(Set(listed.map { $0[1] }) == Set(names))
        #expect(listed.allSatisfy { $0[4] == "\(Self.rowsPerFile)/\(Self.rowsPerFile)" })
    }
}

/// SIGKILL while retention removes result folders (result_retention): the list is written
/// before the folders go, so at every kill each request richieste.csv lists still has its
/// folder, and a run after the kills finishes every removal.
@Suite struct RetentionCrashTests {
    static let files = 600

    @Test func killedWhileRemovingFoldersTheListNeverNamesAMissingFolder() throws {
        let spool = try Spool()
        let crash = CrashTests()
        try crash.writeRegistry(spool.root + "/registry")
        try spool.ok(["registry", "import", spool.root + "/registry"])
        try spool.ok(["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."])
        for k in 0..<Self.files {
            let text = "POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n\(CrashTests.pod(k));\(CrashTests.sid(k));Standard\r\n"
            try text.write(toFile: spool.incoming("acme") + String(format: "/r-%04d.csv", k), atomically: true, encoding: .utf8)
        }
        try spool.ok(["serve", "--once"])
        #expect(crash.resultFolders(spool).count == Self.files)
        let audit = try spool.sqlInt("SELECT count(*) FROM audit")

        // Everything is older than the retention for the runs below, whose clock is a day ahead.
        let config = try String(contentsOfFile: spool.configPath, encoding: .utf8)
        try (config + "\nresult_retention = 1s\n").write(toFile: spool.configPath, atomically: true, encoding: .utf8)

        func expectConsistent() throws {
            let folders = Set(crash.resultFolders(spool))
            for line in try spool.requestList("acme") {
                #expect(folders.contains(line[0]) && FileManager.default.fileExists(atPath: spool.results("acme") + "/\(line[0])/stato.json"),
                        "\(line[0]) listed without its folder")
            }
        }
        var landed = 0
        if try crash.kill(spool, aDayAhead: true, when: { true }) { landed += 1 }
        try expectConsistent()
        for target in [Self.files * 3 / 4, Self.files / 2, Self.files / 4, 1] {
            if try crash.kill(spool, aDayAhead: true, when: { crash.resultFolders(spool).count <= target }) { landed += 1 }
            try expectConsistent()
        }
        print("retention crash test: \(landed) of 5 kills landed on a running serve --once")
        #expect(landed >= 1, "no kill landed on a running serve: the test proved little")

        let last = try spool.runADayAhead(["serve", "--once"])
        #expect(last.status == 0, "serve --once: \(last.stderr)")
        #expect(crash.resultFolders(spool).isEmpty)
        #expect(try spool.requestList("acme").isEmpty)
        #expect(try spool.sqlInt("SELECT count(*) FROM requests WHERE results_state <> 'removed'") == 0)
        // The data stays: requests, rows, associations, the audit trail.
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == Self.files)
        #expect(try spool.sqlInt("SELECT count(*) FROM audit") == audit)
        #expect(try spool.ok(["show", "MOME-000000007"]).stdout.contains("--restore"))
        // And one comes back on request.
        try spool.ok(["show", "MOME-000000007", "--restore"])
        #expect(try spool.requestList("acme").map { $0[0] } == ["MOME-000000007"])
        #expect(try spool.esito(tenant: "acme", id: "MOME-000000007").count == 1)
    }
}
