import Foundation
import Glibc
import Testing

/// Operator commands run as root on a spool the daemon owns, and the SI account commands.
@Suite(.serialized, .enabled(if: runningAsRoot, "creates Unix users: needs root"))
struct OperatorTests {
    /// Like `postsuper`, every command run as root enters the spool as its owner: afterwards the
    /// daemon (its own user, no privilege) can do all its work.
    @Test func rootCommandsLeaveNothingTheDaemonCannotWrite() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        try deployment.importRegistry(owners: ["acme": acme])
        let submitted = try deployment.massiva(["submit", "--tenant", acme, packageRoot + "/samples/requests/acme-every-error.csv"])
        #expect(submitted.status == 0, "\(submitted.errors)")
        let queued = try deployment.massiva(["submit", "--tenant", acme, packageRoot + "/samples/requests/acme-clean.csv"])
        for arguments in [["cancel", "MOME-000000002"], ["list"], ["show", "MOME-000000001"], ["status"], ["flush"],
                          ["tenant", "disable", acme], ["tenant", "enable", acme], ["account", "list"]] {
            let result = try deployment.massiva(arguments)
            #expect([0, 3].contains(result.status), "\(arguments): \(result.errors)")
        }
        #expect(queued.status == 0)
        // Nothing of the daemon's is root's: the database and its journals, the result folders.
        let daemonsParts = everyPath(under: deployment.spool + "/private") + everyPath(under: deployment.spool + "/tenants/\(acme)/results")
        #expect(daemonsParts.count > 8)
        for path in daemonsParts + [deployment.spool + "/private"] {
            #expect(ownership(path)?.user == deployment.daemonUser, "\(path) is \(ownership(path).map { $0.user } ?? "?")'s")
        }
        // And the daemon's user really can work: serve --once with no privilege at all.
        let once = try run(["/usr/bin/setpriv", "--reuid=" + deployment.daemonUser, "--regid=" + deployment.daemonUser, "--init-groups",
                            "--", massivaBinary, "serve", "--once"], environment: ["MASSIVA_CONFIG": deployment.configPath])
        #expect(once.status == 0, "\(once.errors)")
        let stato = try String(contentsOfFile: deployment.spool + "/tenants/\(acme)/results/MOME-000000001/stato.json", encoding: .utf8)
        #expect(stato.contains("\"processing\"") || stato.contains("\"done\""), "\(stato)")
    }

    @Test func tenantAddMakesTheSchemeAndAFailedOneLeavesNothing() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        let tenants = deployment.spool + "/tenants"
        #expect(ownership(deployment.spool + "/tenants")! == ("root", "root", 0o755))
        #expect(ownership(tenants + "/" + acme)! == ("root", "root", 0o755))
        #expect(ownership(tenants + "/\(acme)/incoming")! == (deployment.daemonUser, "si-" + acme, 0o1770))
        #expect(ownership(tenants + "/\(acme)/results")! == (deployment.daemonUser, "si-" + acme, 0o750))
        #expect(ownership(tenants + "/\(acme)/template.csv")! == ("root", "root", 0o644))
        #expect(ownership(deployment.spool + "/private/claim/" + acme)! == (deployment.daemonUser, deployment.daemonUser, 0o700))

        // A step that fails (incoming/ is in the way as a file) undoes the steps before it.
        let volt = "volt" + deployment.suffix
        try FileManager.default.createDirectory(atPath: tenants + "/" + volt, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: tenants + "/\(volt)/incoming", contents: Data())
        let failed = try deployment.massiva(["tenant", "add", volt, "--name", "VOLTAIC SPA"])
        #expect(failed.status != 0)
        #expect(failed.errors.contains("incoming"), "\(failed.errors)")
        #expect(!(try deployment.massiva(["tenant", "list", "--csv"]).output.contains(volt)), "the failed tenant was recorded")
        #expect(getgrnam("si-" + volt) == nil, "its group was left")
        #expect(!FileManager.default.fileExists(atPath: tenants + "/\(volt)/results"))
        // Once the obstacle is gone the same command succeeds.
        try FileManager.default.removeItem(atPath: tenants + "/\(volt)/incoming")
        _ = try deployment.addTenant("volt", name: "VOLTAIC SPA")
        #expect(ownership(tenants + "/\(volt)/incoming")?.group == "si-" + volt)
    }

    @Test func accountsAreSFTPOnlyUsersOfTheirTenant() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        let maria = try deployment.addAccount(tenant: acme, base: "sia", name: "Maria Rossi")
        let entry = try #require(getpwnam(maria.login)).pointee
        #expect(String(cString: entry.pw_gecos) == "Maria Rossi")
        #expect(String(cString: entry.pw_shell) == "/usr/sbin/nologin")
        #expect(String(cString: entry.pw_dir) == deployment.spool + "/tenants/" + acme)
        #expect(entry.pw_gid == getgrnam("si-" + acme)!.pointee.gr_gid)
        let members = try run(["id", "-nG", maria.login]).output
        #expect(members.contains(deployment.sftpGroup))
        let key = deployment.keysDirectory + "/" + maria.login
        #expect(ownership(key)! == ("root", "root", 0o644))
        #expect(try String(contentsOfFile: key, encoding: .utf8) == (try String(contentsOfFile: maria.key + ".pub", encoding: .utf8)))
        let list = try deployment.massiva(["account", "list", "--tenant", acme, "--csv"])
        #expect(list.output.contains(maria.login) && list.output.contains("Maria Rossi"))
        // The given name and surname apart (Nome, Cognome): a two-word --name is split.
        #expect(list.output.contains(";Maria;Rossi;Maria Rossi;"), "\(list.output)")
        // Given apart, a longer name keeps its parts, and the Unix comment is the whole name.
        let anna = try deployment.addAccount(tenant: acme, base: "sib", name: "",
                                             names: ["--given-name", "Anna Maria", "--surname", "De Luca"])
        #expect(String(cString: try #require(getpwnam(anna.login)).pointee.pw_gecos) == "Anna Maria De Luca")
        #expect(try deployment.massiva(["account", "list", "--csv"]).output.contains(";Anna Maria;De Luca;Anna Maria De Luca;"))

        // Refused before anything changes: a bad key, an unknown tenant, an existing user, a bad name.
        let badKey = deployment.root + "/bad.pub"
        try "command=\"/bin/sh\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPCN5L7IAzusPWDlxFYFa7JhDh8Oae5z5K5EcZlWhncD x\n"
            .write(toFile: badKey, atomically: false, encoding: .utf8)
        let login = "sic" + deployment.suffix
        for arguments in [["account", "add", acme, login, "--name", "Luca Bianchi", "--key", badKey],
                          ["account", "add", "nobody" + deployment.suffix, login, "--name", "Luca Bianchi", "--key", maria.key + ".pub"],
                          ["account", "add", acme, "root", "--name", "Luca Bianchi", "--key", maria.key + ".pub"],
                          ["account", "add", acme, login, "--given-name", "Luca", "--surname", "Bian:chi", "--key", maria.key + ".pub"],
                          ["account", "add", acme, login, "--name", "Luca Maria Bianchi", "--key", maria.key + ".pub"]] {
            let result = try deployment.massiva(arguments)
            #expect(result.status != 0, "\(arguments) was accepted")
            #expect(getpwnam(login) == nil, "\(arguments) left a user")
        }
        // Only massiva's own accounts are removed, never another user of the system.
        #expect(try deployment.massiva(["account", "remove", "root"]).status != 0)
        #expect(getpwnam("root") != nil)
        let removed = try deployment.massiva(["account", "remove", maria.login])
        #expect(removed.status == 0, "\(removed.errors)")
        #expect(getpwnam(maria.login) == nil)
        #expect(!FileManager.default.fileExists(atPath: key))
        #expect(!(try deployment.massiva(["account", "list", "--csv"]).output.contains(maria.login)))
    }

    /// What an earlier release (files by the umask) or a hand-made change left is put right.
    @Test func setPermissionsRepairsAnOldSpool() throws {
        let deployment = try Deployment()
        defer { deployment.tearDown() }
        let acme = try deployment.addTenant("acme", name: "ACME IMPIANTI SRL")
        let tenant = deployment.spool + "/tenants/" + acme
        let old = tenant + "/results/MOME-000000001"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: old + "/esito.csv", contents: Data("x".utf8))
        chmod(old, 0o750)
        chmod(old + "/esito.csv", 0o640)
        chmod(tenant + "/incoming", 0o755)
        chown(tenant + "/incoming", 0, 0)
        symlink("/etc/shadow", old + "/link")
        let result = try deployment.massiva(["set-permissions"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(ownership(tenant + "/incoming")! == (deployment.daemonUser, "si-" + acme, 0o1770))
        #expect(ownership(old)! == (deployment.daemonUser, deployment.daemonUser, 0o755))
        #expect(ownership(old + "/esito.csv")! == (deployment.daemonUser, deployment.daemonUser, 0o644))
        #expect(ownership(old + "/link") == nil, "a link in results/ was left")
        // Run as the daemon's user it refuses (it changes owners), and says so.
        let refused = try run(["/usr/bin/setpriv", "--reuid=" + deployment.daemonUser, "--regid=" + deployment.daemonUser, "--init-groups",
                               "--", massivaBinary, "set-permissions"], environment: ["MASSIVA_CONFIG": deployment.configPath])
        #expect(refused.status == 1 && refused.errors.contains("as root"), "\(refused.errors)")
    }
}
