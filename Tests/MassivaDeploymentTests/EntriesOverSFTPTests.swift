import Foundation
import Glibc
import Testing

/// Issue 22, item 4, as deployed: what an SI makes in `incoming/` over SFTP that is no upload,
/// answered where it looks, with the daemon running as its own user (`CAP_DAC_READ_SEARCH`).
@Suite(.serialized, .enabled(if: runningAsRoot, "creates Unix users and runs sshd: needs root"),
       .enabled(if: access("/usr/sbin/sshd", X_OK) == 0, "needs openssh-server (scripts/ensure-deps --test installs it)"))
struct EntriesOverSFTPTests {
    /// A folder with a file inside, made by the SI: the daemon may read it but not write it
    /// (the SI's, 0755), so it cannot move or empty it. It is answered once, its file never
    /// becomes a request, and the SI can remove it; a `.cancel` of another SI's request is
    /// answered as one of a number that does not exist.
    @Test func anSIsFolderWithAFileIsAnsweredOnceAndACancelOfAnotherSIsRequestLikeAnUnknownOne() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let (acme, voltaic, maria, luca, daemon) = try deployment.startTwoSIs()
        let local = deployment.root + "/local"
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: packageRoot + "/samples/requests/acme-clean.csv", toPath: local + "/clean.csv")
        try "".write(toFile: local + "/empty", atomically: false, encoding: .utf8)

        // Made whole, then renamed in: over SFTP, "mkdir" then "put" races the daemon, which
        // answers and removes the folder while it is still empty (the put then fails: "No such
        // file"); a client that uploads a tree fast enough (put -r) gets this folder.
        let staging = deployment.root + "/staging"
        try FileManager.default.createDirectory(atPath: staging + "/lotti", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: local + "/clean.csv", toPath: staging + "/lotti/clean.csv")
        let uid = try #require(getpwnam(maria.login)).pointee.pw_uid
        for path in [staging + "/lotti", staging + "/lotti/clean.csv"] { #expect(chown(path, uid, uid_t(bitPattern: -1)) == 0) }
        #expect(chmod(staging + "/lotti", 0o755) == 0 && chmod(staging + "/lotti/clean.csv", 0o644) == 0)
        #expect(rename(staging + "/lotti", deployment.spool + "/tenants/\(acme)/incoming/lotti") == 0, "\(errno)")
        let results = deployment.spool + "/tenants/\(acme)/results"
        let answer = results + "/MOME-000000001/stato.json"
        #expect(deployment.wait(seconds: 20) { FileManager.default.fileExists(atPath: answer) }, "\(deployment.daemonLog)")
        let stato = try String(contentsOfFile: answer, encoding: .utf8)
        #expect(stato.contains("\"rejected\"") && stato.contains("cartella") && stato.contains("lotti"), "\(stato)")
        #expect(deployment.wait(seconds: 10) { deployment.daemonLog.contains("folder_left") }, "\(deployment.daemonLog)")

        // A later upload makes a pass: the folder is not answered again, its file never taken.
        #expect(try deployment.sftp(maria.login, key: maria.key, ["put \(local)/clean.csv incoming/clean.csv"]).status == 0)
        #expect(deployment.wait(seconds: 20) { FileManager.default.fileExists(atPath: results + "/MOME-000000002/esito.csv") },
                "\(deployment.daemonLog)")
        #expect(!FileManager.default.fileExists(atPath: results + "/MOME-000000003"))
        // The SI removes its folder itself.
        let cleaned = try deployment.sftp(maria.login, key: maria.key, ["rm incoming/lotti/clean.csv", "rmdir incoming/lotti"])
        #expect(cleaned.status == 0, "\(cleaned.errors)")

        // luca cancels acme's MOME-000000002 and an unknown MOME-000000900: the same answer.
        let cancels = try deployment.sftp(luca.login, key: luca.key, [
            "put \(local)/empty incoming/MOME-000000002.cancel", "put \(local)/empty incoming/MOME-000000900.cancel",
        ])
        #expect(cancels.status == 0, "\(cancels.errors)")
        let lucas = deployment.spool + "/tenants/\(voltaic)/results"
        #expect(deployment.wait(seconds: 20) {
            FileManager.default.fileExists(atPath: lucas + "/MOME-000000003/stato.json")
                && FileManager.default.fileExists(atPath: lucas + "/MOME-000000004/stato.json")
        }, "\(deployment.daemonLog)")
        let reasons = try ["MOME-000000003", "MOME-000000004"].map { id -> String in
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: lucas + "/\(id)/stato.json")))
            return ((json as? [String: Any])?["reason"] as? String ?? "")
                .replacingOccurrences(of: "MOME-000000002", with: "N").replacingOccurrences(of: "MOME-000000900", with: "N")
        }
        #expect(reasons[0] == reasons[1] && reasons[0].contains("non è stata trovata"), "\(reasons)")
        let listing = try deployment.sftp(luca.login, key: luca.key, ["ls -1 results"])
        #expect(listing.output.contains("MOME-000000003") && listing.output.contains("MOME-000000004"), "\(listing.output)")
        #expect(daemon.isRunning)
    }
}
