import Foundation
import Glibc
import Testing

/// kill -9 at any moment, start again: every upload becomes exactly one request, every row ends
/// exactly once, no association is made twice, no temporary file is ever visible in results/.
@Suite(.serialized) struct CrashTests {
    static let files = 400
    static let rowsPerFile = 25

    /// A registry of reachable PODs and acme devices big enough for the backlog.
    static func writeRegistry(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var pods = "pod,eneltel,matricola,meter_type,exchange_pod,telemanaged,eligible,reachability,holder_tax_code\n"
        var devices = "sid,nid,device_type,owner\n"
        for i in 0..<(files * rowsPerFile) {
            pods += String(format: "IT009E%08d,%09d,ABCDEX%08d,M1,,true,true,%@,RSSMRA80A01H501U\n", i, i, i,
                           i % 50 == 0 ? "flaky:1" : "reachable")
            devices += String(format: "16MOMSPC9%08d,%012X,MOME,acme\n", i, i)
        }
        try pods.write(toFile: directory + "/pods.csv", atomically: true, encoding: .utf8)
        try devices.write(toFile: directory + "/devices.csv", atomically: true, encoding: .utf8)
    }

    static func file(_ n: Int) -> String {
        var lines = ["POD;Identificativo MOME/Smart INFO;Tipo Configurazione"]
        for r in 0..<rowsPerFile {
            let i = n * rowsPerFile + r
            lines.append(String(format: "IT009E%08d;16MOMSPC9%08d;Standard", i, i))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Every file name under results/ that is not a finished result file.
    static func temporaryNames(in results: String) -> [String] {
        let names = (FileManager.default.enumerator(atPath: results)?.allObjects as? [String]) ?? []
        return names.filter { name in
            let last = (name as NSString).lastPathComponent
            return last.hasPrefix(".") || last.contains(".tmp")
        }
    }

    @Test func killNineRepeatedlyWhileWorkingThroughABacklog() throws {
        let h = try DaemonHarness(extra: "minimal_backoff_time = 0s\nmaximal_backoff_time = 0s")
        try Self.writeRegistry(to: h.root + "/registry")
        try h.check(["registry", "import", h.root + "/registry"])
        for n in 0..<Self.files { try h.drop(Self.file(n), as: String(format: "batch-%03d.csv", n)) }

        var killsMidWork = 0
        var progress: [Int] = []
        var sawTemporary: [String] = []
        for round in 0..<6 {
            let daemon = try h.startDaemon()
            // Let it get into the backlog, then kill it at a different moment each round: the
            // first rounds during start-up and intake, the later ones in the middle of the work.
            if round < 2 {
                usleep(useconds_t(5_000 + 20_000 * round))
            } else {
                let target = min(Self.files - 1, (progress.last ?? 0) + Self.files / 10)
                _ = h.waitUntil(30) { (Int(h.sql("SELECT count(*) FROM requests WHERE status = 'done'") ?? "0") ?? 0) >= target }
                usleep(useconds_t(1_000 * (round * 7 % 10)))
            }
            sawTemporary += Self.temporaryNames(in: h.spool + "/tenants/acme/results")
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
            let done = Int(h.sql("SELECT count(*) FROM requests WHERE status = 'done'") ?? "0") ?? 0
            if daemon.terminationReason == .uncaughtSignal && done < Self.files { killsMidWork += 1 }
            progress.append(done)
            sawTemporary += Self.temporaryNames(in: h.spool + "/tenants/acme/results")
        }
        // The test means something only if the daemon died with work left over.
        #expect(killsMidWork >= 3, "requests done at each kill: \(progress)")
        #expect(progress.contains { $0 > 0 && $0 < Self.files }, "never killed in the middle: \(progress)")
        print("crash test: requests done at each kill: \(progress)")

        // The last run finishes the backlog.
        let daemon = try h.startDaemon()
        let finished = h.waitUntil(60) {
            h.sql("SELECT count(*) FROM requests WHERE status <> 'done'") == "0"
                && h.sql("SELECT count(*) FROM requests") == String(Self.files)
                && h.sql("SELECT count(*) FROM requests WHERE state_version <> results_version") == "0"
        }
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(finished, "backlog not finished: \(h.sql("SELECT status, count(*) FROM requests GROUP BY status") ?? "?")")

        // Every uploaded file became exactly one request.
        #expect(h.sql("SELECT count(*) FROM requests") == String(Self.files))
        #expect(h.sql("SELECT count(DISTINCT file_name) FROM requests") == String(Self.files))
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.incoming("acme")).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.spool + "/private/claim/acme").isEmpty)
        // Every row ended exactly once, associated.
        let total = Self.files * Self.rowsPerFile
        #expect(h.sql("SELECT count(*) FROM rows") == String(total))
        #expect(h.sql("SELECT count(*) FROM rows WHERE code = 'OK'") == String(total))
        #expect(h.sql("SELECT count(*) FROM associations") == String(total))
        #expect(h.sql("SELECT count(*) FROM (SELECT sid FROM associations GROUP BY sid HAVING count(*) > 1) AS twice") == "0")
        // The flaky PODs were retried once: two attempts, never more.
        #expect(h.sql("SELECT count(*) FROM rows WHERE attempts <> CASE WHEN CAST(substr(pod, 7) AS INTEGER) % 50 = 0 THEN 2 ELSE 1 END") == "0")
        // The result files agree with the database, and no temporary name was ever in results/.
        for n in [0, Self.files / 2, Self.files - 1] {
            let id = String(format: "MOME-%09d", Int(h.sql("SELECT id FROM requests WHERE file_name = 'batch-\(String(format: "%03d", n)).csv'") ?? "0") ?? 0)
            #expect(h.stato("acme", id)?["outcome"] as? String == "Lavorato")
        }
        #expect(sawTemporary.isEmpty, "temporary files seen in results/: \(sawTemporary.prefix(5))")
        #expect(Self.temporaryNames(in: h.spool + "/tenants/acme/results").isEmpty)
    }
}
