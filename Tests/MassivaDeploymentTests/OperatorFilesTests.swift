import Foundation
import Glibc
import Testing

/// Issue 18: root's commands on a spool the daemon owns read and write the operator's own files
/// with the operator's rights (a folder of root's, 0700, as an admin keeps files), and act on
/// the spool with the owner's; issue 17: the one identity switch, and a failed one is an error.
@Suite(.serialized, .enabled(if: runningAsRoot, "creates Unix users: needs root"))
struct OperatorFilesTests {
    /// A folder only root may enter, with the sample registry (its devices given to `tenant`)
    /// and an upload in it, each 0600.
    func rootsFolder(_ deployment: Deployment, tenant: String) throws -> String {
        let folder = deployment.root + "/admin"
        try FileManager.default.createDirectory(atPath: folder + "/registry", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: packageRoot + "/samples/registry/pods.csv", toPath: folder + "/registry/pods.csv")
        let devices = try String(contentsOfFile: packageRoot + "/samples/registry/devices.csv", encoding: .utf8)
            .replacingOccurrences(of: ",acme\n", with: "," + tenant + "\n")
        try devices.write(toFile: folder + "/registry/devices.csv", atomically: false, encoding: .utf8)
        try FileManager.default.copyItem(atPath: packageRoot + "/samples/requests/acme-clean.csv", toPath: folder + "/upload.csv")
        for path in [folder + "/registry/pods.csv", folder + "/registry/devices.csv", folder + "/upload.csv"] { chmod(path, 0o600) }
        chmod(folder + "/registry", 0o700)
        chmod(folder, 0o700)
        return folder
    }

    /// A query with the sqlite3 CLI (as root); one array of cells per line.
    func sqlite(_ database: String, _ query: String) throws -> [[String]] {
        let result = try run(["/usr/bin/sqlite3", "-separator", "|", database, query])
        #expect(result.status == 0, "sqlite3 \(database) \(query): \(result.errors)")
        return result.output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The daemon's user cannot even look into the folder: what this test is about.
    func daemonCannotEnter(_ deployment: Deployment, _ folder: String) throws {
        let look = try run(["/usr/bin/setpriv", "--reuid=" + deployment.daemonUser, "--regid=" + deployment.daemonUser, "--init-groups",
                            "--", "/bin/cat", folder + "/upload.csv"])
        #expect(look.status != 0, "the daemon's user read \(folder)/upload.csv: the test proves nothing")
    }

    @Test func rootsCommandsReadAndWriteTheOperatorsFilesAsTheOperator() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        let folder = try rootsFolder(deployment, tenant: acme)
        try daemonCannotEnter(deployment, folder)

        let imported = try deployment.massiva(["registry", "import", folder + "/registry"])
        #expect(imported.status == 0, "registry import: \(imported.errors)")
        #expect(imported.output.contains("imported"), "\(imported.output)")
        let validated = try deployment.massiva(["validate", folder + "/upload.csv"])
        #expect(validated.status == 0 && validated.output.contains("OK"), "validate: \(validated.errors)\(validated.output)")
        let submitted = try deployment.massiva(["submit", "--tenant", acme, folder + "/upload.csv"])
        #expect(submitted.status == 0 && submitted.output.hasPrefix("MOME-000000001"), "submit: \(submitted.errors)")
        // Recorded as root's upload: the caller's name, read before the switch.
        #expect(try deployment.database.rows("SELECT configurator FROM requests") == [["root"]])

        let associated = try deployment.massiva(["associate", "--tenant", acme, "--pod", "IT001E00000001", "--sid", "16MOMSPC300000001",
                                                 "--type", "Standard", "--out", folder])
        #expect(associated.status == 0, "associate: \(associated.errors)")
        let scp = folder + "/16MOMSPC300000001_IT001E00000001.scp"
        let first = FileManager.default.contents(atPath: scp)
        #expect(first != nil)
        try? FileManager.default.removeItem(atPath: scp)
        let again = try deployment.massiva(["scp", "--tenant", acme, "--pod", "IT001E00000001", "--out", folder])
        #expect(again.status == 0, "scp: \(again.errors)")
        #expect(FileManager.default.contents(atPath: scp) == first)

        // The backup is a copy of the SQLite file; on PostgreSQL massiva backup refuses (pg_dump's
        // job, PostgresSettingCommandTests), so there is no copy to make in root's folder.
        let backsUp = deployment.database.engine == .sqlite
        if backsUp {
            let backedUp = try deployment.massiva(["backup", folder + "/copia.db"])
            #expect(backedUp.status == 0, "backup: \(backedUp.errors)")
            #expect(try sqlite(folder + "/copia.db", "PRAGMA integrity_check") == [["ok"]])
            #expect(try sqlite(folder + "/copia.db", "SELECT count(*) FROM requests") == [["1"]])
            #expect(try sqlite(folder + "/copia.db", "SELECT count(*) FROM associations") == [["1"]])
            let replaced = try deployment.massiva(["backup", "--force", folder + "/copia.db"])
            #expect(replaced.status == 0, "backup --force: \(replaced.errors)")
        }

        // The CSV outputs, redirected by root's shell into root's folder, as an operator does.
        for (command, file) in [("report --all-tenants --all --csv", "report.csv"), ("audit --csv", "audit.csv")] {
            let written = try run(["/bin/sh", "-c", "\"$0\" \(command) > \"$1\"", massivaBinary, folder + "/" + file],
                                  environment: ["MASSIVA_CONFIG": deployment.configPath])
            #expect(written.status == 0, "\(command): \(written.errors)")
        }
        #expect(try String(contentsOfFile: folder + "/report.csv", encoding: .utf8).contains("IT001E00000001"))
        #expect(try String(contentsOfFile: folder + "/audit.csv", encoding: .utf8).contains("IT001E00000001"))

        // The operator's files are root's, and nothing else is left in the folder (no temporary).
        let copies = backsUp ? ["copia.db"] : []
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder))
                == Set(["registry", "upload.csv", "16MOMSPC300000001_IT001E00000001.scp", "report.csv", "audit.csv"] + copies))
        for name in ["16MOMSPC300000001_IT001E00000001.scp"] + copies {
            #expect(ownership(folder + "/" + name)?.user == "root", "\(name) is \(ownership(folder + "/" + name).map { $0.user } ?? "?")'s")
        }
        if backsUp { #expect(ownership(folder + "/copia.db")?.mode == 0o600) }
        // Everything made in the spool is the daemon's.
        let daemonsParts = everyPath(under: deployment.spool + "/private") + everyPath(under: deployment.spool + "/tenants/\(acme)/results")
        #expect(daemonsParts.contains { $0.hasSuffix("/MOME-000000001/stato.json") })
        for path in daemonsParts + [deployment.spool + "/private"] {
            #expect(ownership(path)?.user == deployment.daemonUser, "\(path) is \(ownership(path).map { $0.user } ?? "?")'s")
        }
    }

    /// Root without CAP_SETUID and CAP_SETGID (a unit's `CapabilityBoundingSet=`, a container's
    /// dropped capabilities) cannot take the spool owner's identity: the command says so and
    /// stops before it does anything, for the full switch (`submit`) and the effective one
    /// (`backup`) alike.
    @Test func aFailedSwitchIsAClearErrorAndChangesNothing() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        let folder = try rootsFolder(deployment, tenant: acme)
        let withoutSetID = ["/usr/bin/setpriv", "--bounding-set=-setuid,-setgid", "--", massivaBinary]
        let environment = ["MASSIVA_CONFIG": deployment.configPath]
        for arguments in [["submit", "--tenant", acme, folder + "/upload.csv"], ["backup", folder + "/copia.db"]] {
            let result = try run(withoutSetID + arguments, environment: environment)
            #expect(result.status == 1, "\(arguments[0]): \(result.status) \(result.errors)")
            #expect(result.errors.contains("massiva \(arguments[0]): cannot take the identity of the spool's owner \(deployment.daemonUser)"),
                    "\(result.errors)")
            #expect(result.errors.contains("Operation not permitted") && result.errors.contains("nothing was done"), "\(result.errors)")
        }
        #expect(try deployment.database.rows("SELECT count(*) FROM requests") == [["0"]])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)) == ["registry", "upload.csv"])
        // The same root with those capabilities does it.
        let submitted = try run([massivaBinary, "submit", "--tenant", acme, folder + "/upload.csv"], environment: environment)
        #expect(submitted.status == 0, "\(submitted.errors)")
    }
}
