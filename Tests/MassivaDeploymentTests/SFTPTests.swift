import Foundation
import Glibc
import Testing

/// The deployment as its users use it: SI accounts upload with the real `sftp` client through
/// a real sshd (the package's example configuration) to the daemon running as its own user.
@Suite(.serialized, .enabled(if: runningAsRoot, "creates Unix users and runs sshd: needs root"),
       .enabled(if: access("/usr/sbin/sshd", X_OK) == 0, "needs openssh-server (scripts/ensure-deps --test installs it)"))
struct SFTPTests {
    @Test func anSIUploadsOverSFTPAndDownloadsItsResults() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let (acme, voltaic, maria, luca, daemon) = try deployment.startTwoSIs()

        // A 0600 upload (sftp's put keeps the local mode), and one under a temporary name.
        let local = deployment.root + "/local"
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: packageRoot + "/samples/requests/acme-clean.csv", toPath: local + "/clean.csv")
        chmod(local + "/clean.csv", 0o600)
        try FileManager.default.copyItem(atPath: packageRoot + "/samples/requests/acme-every-error.csv", toPath: local + "/errors.csv")
        let results = deployment.spool + "/tenants/\(acme)/results"
        let first = results + "/MOME-000000001", second = results + "/MOME-000000002"
        // One after the other: the error sample's "already associated" rows are clean.csv's
        // PODs and SIDs, so it must be processed second (put in one session, the two were
        // sometimes taken the other way round: errors.csv, renamed whole, before clean.csv
        // still settling; twice in CI runs).
        let upload = try deployment.sftp(maria.login, key: maria.key, ["put \(local)/clean.csv incoming/clean.csv"])
        #expect(upload.status == 0, "sftp upload: \(upload.errors); sshd: \(deployment.sshdLog.suffix(1500))")
        #expect(deployment.wait(seconds: 20) { FileManager.default.fileExists(atPath: first + "/esito.csv") },
                "no result for clean.csv: \(deployment.daemonLog)")
        let errorsUpload = try deployment.sftp(maria.login, key: maria.key, [
            "put \(local)/errors.csv incoming/.errors.csv",
            "rename incoming/.errors.csv incoming/errors.csv",
        ])
        #expect(errorsUpload.status == 0, "sftp upload: \(errorsUpload.errors); sshd: \(deployment.sshdLog.suffix(1500))")
        #expect(deployment.wait(seconds: 20) {
            FileManager.default.fileExists(atPath: first + "/esito.csv") && FileManager.default.fileExists(atPath: second + "/esito.csv")
                // The lists follow the folders (written on their own thread, a moment later).
                && ((try? String(contentsOfFile: results + "/richieste.csv", encoding: .utf8))?.contains("MOME-000000002") ?? false)
                && ((try? String(contentsOfFile: results + "/associazioni.csv", encoding: .utf8))?.contains("Maria Rossi") ?? false)
        }, "no results: \(deployment.daemonLog)")

        // Downloaded as the SI: every file the SI needs, through sftp.
        let downloads = deployment.root + "/downloads"
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        let get = try deployment.sftp(maria.login, key: maria.key, [
            "get results/MOME-000000001/esito.csv \(downloads)/esito.csv",
            "get results/MOME-000000001/scp.zip \(downloads)/scp.zip",
            "get results/MOME-000000001/stato.json \(downloads)/stato.json",
            "get results/richieste.csv \(downloads)/richieste.csv",
            "get results/associazioni.csv \(downloads)/associazioni.csv",
            "get template.csv \(downloads)/template.csv",
        ])
        #expect(get.status == 0, "sftp get: \(get.errors); sshd: \(deployment.sshdLog.suffix(1500))")
        let esito = try String(contentsOfFile: downloads + "/esito.csv", encoding: .utf8)
        let lines = esito.split(separator: "\r\n").map(String.init)
        let header = lines[0].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let configurator = header.firstIndex(of: "CONFIGURATORE")!, code = header.firstIndex(of: "CODICE")!
        let integrator = header.firstIndex(of: "SYSTEM INTEGRATOR")!
        #expect(lines.count == 21)
        for line in lines.dropFirst() {
            let cells = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            #expect(cells[configurator] == "Maria Rossi")
            #expect(cells[integrator] == "ACME IMPIANTI SRL")
            #expect(cells[code] == "OK")
        }
        let zip = try Data(contentsOf: URL(fileURLWithPath: downloads + "/scp.zip"))
        #expect(zip.starts(with: [0x50, 0x4B, 0x03, 0x04]), "scp.zip is a zip")
        let stato = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: downloads + "/stato.json"))) as? [String: Any]
        #expect(stato?["status"] as? String == "done")
        #expect(try String(contentsOfFile: downloads + "/richieste.csv", encoding: .utf8).contains("MOME-000000002"))
        #expect(try String(contentsOfFile: downloads + "/associazioni.csv", encoding: .utf8).contains("Maria Rossi"))
        #expect(try String(contentsOfFile: downloads + "/template.csv", encoding: .utf8).hasPrefix("POD;Identificativo MOME/Smart INFO;Tipo Configurazione"))

        // The scheme's modes, whatever the daemon's umask (0027).
        #expect(ownership(results)?.mode == 0o750)
        #expect(ownership(results)?.group == "si-" + acme)
        #expect(ownership(first)?.mode == 0o755)
        for file in ["esito.csv", "scp.zip", "stato.json", "richiesta.csv"] { #expect(ownership(first + "/" + file)?.mode == 0o644, "\(file)") }
        #expect(ownership(deployment.spool + "/tenants/" + acme)?.user == "root")

        // What an SI must not do: each refused on its own.
        let refused: [String] = [
            "put \(local)/errors.csv results/mine.csv",
            "rm results/MOME-000000001/esito.csv",
            "rename results/MOME-000000001/esito.csv results/MOME-000000001/other.csv",
            "mkdir results/mine",
            "rm template.csv",
            "put \(local)/errors.csv outside.csv",
            "symlink results incoming/link",
            "ls /private",
            "ls /\(voltaic)",
            "ls ../../private",
            "chmod 777 incoming",
        ]
        for command in refused {
            let result = try deployment.sftp(maria.login, key: maria.key, [command])
            #expect(result.status != 0, "\(command) was allowed")
        }
        // The chroot shows only the tenant's own folder; the other SI sees nothing of acme's.
        let listing = try deployment.sftp(maria.login, key: maria.key, ["ls -1 /"])
        #expect(listing.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("sftp>") }.sorted()
                == ["/incoming", "/results", "/template.csv"],
                "\(listing.output) \(listing.errors); sshd: \(deployment.sshdLog.suffix(1500))")
        let other = try deployment.sftp(luca.login, key: luca.key, ["ls -1 results"])
        #expect(other.status == 0 && !other.output.contains("MOME-"), "\(other.output)")

        // Folders are refused (the example's "-P ... mkdir"): an upload is one file, and a folder
        // of the SI's could be answered by the daemon but never emptied (EntriesOverSFTPTests).
        #expect(try deployment.sftp(maria.login, key: maria.key, ["mkdir incoming/folder"]).status != 0, "mkdir was allowed")
        #expect(!FileManager.default.fileExists(atPath: deployment.spool + "/tenants/\(acme)/incoming/folder"))

        // A cancellation is answered in stato.json (the request has started: refused, with a note).
        try "".write(toFile: local + "/cancel", atomically: false, encoding: .utf8)
        #expect(try deployment.sftp(maria.login, key: maria.key, ["put \(local)/cancel incoming/MOME-000000001.cancel"]).status == 0)
        #expect(deployment.wait(seconds: 10) {
            ((try? String(contentsOfFile: first + "/stato.json", encoding: .utf8)) ?? "").contains("\"note\": \"")
        }, "no answer to the cancellation: \(deployment.daemonLog)")
        #expect(!FileManager.default.fileExists(atPath: results + "/MOME-000000003"), "the cancel file became another request")
        #expect(daemon.isRunning)
    }

    /// Thirty SIs' sessions opened at the same moment: sshd's default MaxStartups (10:30:100)
    /// drops some of them at the key exchange ("Connection reset by peer"); the package's
    /// example raises it, and every session must get through.
    @Test func thirtySessionsAtOnceAreAllServed() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        let maria = try deployment.addAccount(tenant: acme, base: "sia", name: "Maria Rossi")
        try deployment.startSSHD()
        let local = deployment.root + "/local"
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: packageRoot + "/samples/requests/acme-clean.csv", toPath: local + "/clean.csv")

        // All started before any is waited for: thirty connections in sshd's accept queue at once.
        let sessions = 30
        let started = try (0..<sessions).map { i in
            try deployment.startSFTP(maria.login, key: maria.key, ["put \(local)/clean.csv incoming/.session-\(i).part", "ls -1 incoming"])
        }
        let runs = started.map { $0.finish() }
        let refused = runs.enumerated().filter { $0.element.status != 0 }
        #expect(refused.isEmpty, "\(refused.count) of \(sessions) sessions failed: \(refused.map { "#\($0.offset): \($0.element.errors)" }.prefix(5)); sshd: \(deployment.sshdLog.suffix(1500))")
        let uploaded = (try? FileManager.default.contentsOfDirectory(atPath: deployment.spool + "/tenants/\(acme)/incoming")) ?? []
        #expect(uploaded.filter { $0.hasPrefix(".session-") }.count == sessions)
        #expect(!deployment.sshdLog.contains("drop connection"), "sshd dropped connections: \(deployment.sshdLog.suffix(1500))")
        #expect(!deployment.sshdLog.contains("MaxStartups"), "\(deployment.sshdLog.suffix(1500))")
    }
}
