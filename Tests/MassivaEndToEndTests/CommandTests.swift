import Foundation
import Glibc
import Testing

/// The operator's subcommands, through the binary.
@Suite struct CommandTests {
    @Test func validateReportsFileAndLineAndExitsNonZero() throws {
        let spool = try Spool()
        let expectations = try SampleExpectations.load()
        let everyError = try #require(expectations.files["acme-every-error.csv"])
        let path = samplesDirectory + "/requests/acme-every-error.csv"
        let r = try spool.run(["validate", path])
        #expect(r.status == 1)
        let all = r.stdout.split(separator: "\n").map(String.init)
        // The header's line is named, so an SI can tell it was not taken as data.
        #expect(all.first == "\(path):1: intestazione (nessuna cifra nella riga): non è una riga di dati", "\(r.stdout)")
        let lines = all.filter { !$0.contains(": intestazione ") }
        // Exactly the rows refused by checks 1–5 (TENTATIVI 0), each as file:line with its code.
        let refused = everyError.rows.filter { $0.attempts == 0 }
        #expect(refused.count == 12)
        #expect(lines.count == refused.count, "\(r.stdout)")
        for row in refused {
            #expect(lines.contains { $0.hasPrefix("\(path):\(row.line): ") && $0.contains(row.code) }, "line \(row.line) \(row.code)")
        }

        for name in ["acme-clean.csv", "voltaic-excel.csv"] {
            let clean = try spool.run(["validate", samplesDirectory + "/requests/" + name])
            #expect(clean.status == 0, "\(name): \(clean.stdout)")
            #expect(clean.stdout.contains("OK"))
        }
        let template = try spool.run(["validate", samplesDirectory + "/template.csv"])
        #expect(template.status == 1)
        #expect(template.stdout.contains("template.csv"))
        // Several files: one bad one makes the status 1.
        let both = try spool.run(["validate", samplesDirectory + "/requests/acme-clean.csv", samplesDirectory + "/template.csv"])
        #expect(both.status == 1)
        let missing = try spool.run(["validate", spool.root + "/no-such-file.csv"])
        #expect(missing.status != 0)
        let usage = try spool.run(["validate"])
        #expect(usage.status == 2)
    }

    @Test func submitPrintsAnIdAndCancelWorksOnlyWhileQueued() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let sample = samplesDirectory + "/requests/acme-clean.csv"
        let submitted = try spool.ok(["submit", "--tenant", "acme", sample])
        let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.range(of: #"^MOME-\d{9}$"#, options: .regularExpression) != nil, "\(submitted.stdout)")
        #expect(try spool.stato(tenant: "acme", id: id)["status"] as? String == "queued")

        try spool.ok(["cancel", id])
        #expect(try spool.stato(tenant: "acme", id: id)["status"] as? String == "cancelled")
        #expect(try spool.stato(tenant: "acme", id: id)["outcome"] as? String == "Annullato")
        try spool.ok(["serve", "--once"])
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
        #expect(try spool.sqlInt("SELECT count(*) FROM rows") == 0)

        let second = try spool.ok(["submit", "--tenant", "acme", sample]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(second != id)
        try spool.ok(["serve", "--once"])
        #expect(try spool.stato(tenant: "acme", id: second)["status"] as? String == "done")
        let late = try spool.run(["cancel", second])
        #expect(late.status == 1)
        #expect(try spool.stato(tenant: "acme", id: second)["status"] as? String == "done")
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 20)

        #expect(try spool.run(["cancel", "MOME-000000999"]).status != 0)
        #expect(try spool.run(["cancel", "not-an-id"]).status == 2)
        #expect(try spool.run(["submit", "--tenant", "nobody", sample]).status != 0)
        // Submitting to a disabled tenant gives a rejected request.
        try spool.ok(["tenant", "disable", "voltaic"])
        let disabled = try spool.run(["submit", "--tenant", "voltaic", samplesDirectory + "/requests/voltaic-excel.csv"])
        #expect(disabled.status == 1)
        let disabledID = disabled.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try spool.stato(tenant: "voltaic", id: disabledID)["status"] as? String == "rejected")
    }

    /// A spool written by a newer release: every command refuses it with a clear message, and
    /// changes nothing.
    @Test func aDatabaseNewerThanTheBinaryIsRefusedClearly() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let version = try spool.spoolDatabase.schemaVersion()
        #expect(version >= 1)
        try spool.spoolDatabase.setSchemaVersion(version + 1)
        for command in [["list"], ["serve", "--once"], ["status"]] {
            let r = try spool.run(command)
            #expect(r.status == 65, "\(command)")  // EX_DATAERR: the unit does not restart on it
            #expect(r.stderr.contains("schema version \(version + 1), newer than this massiva knows (\(version))"), "\(r.stderr)")
        }
        #expect(try spool.spoolDatabase.schemaVersion() == version + 1)
    }

    @Test func configPrintsTheEffectiveValues() throws {
        let spool = try Spool(extraConfig: "max_attempts = 7")
        let viaEnvironment = try spool.ok(["config"]).stdout
        let viaOption = try spool.run(["--config", spool.configPath, "config"], useEnvironment: false)
        let viaOptionAfter = try spool.run(["config", "--config", spool.configPath], useEnvironment: false)
        #expect(viaOption.status == 0 || viaOptionAfter.status == 0, "\(viaOption.stderr) \(viaOptionAfter.stderr)")
        let optionOutput = viaOption.status == 0 ? viaOption.stdout : viaOptionAfter.stdout
        #expect(optionOutput == viaEnvironment)
        let lines = Set(viaEnvironment.split(separator: "\n").map(String.init))
        for expected in ["spool_directory = \(spool.spool)", "settle_time = 0s", "minimal_backoff_time = 1s", "maximal_backoff_time = 2s",
                         "max_attempts = 7", "max_rows = 100"] {
            #expect(lines.contains(expected), "missing \(expected) in\n\(viaEnvironment)")
        }
        let keys = Set(lines.compactMap { $0.components(separatedBy: " = ").first })
        for key in ["spool_directory", "max_rows", "max_file_size", "settle_time", "max_attempts", "minimal_backoff_time", "maximal_backoff_time"] {
            #expect(keys.contains(key), "\(key)")
        }
        let changed = try spool.ok(["config", "-n"]).stdout.split(separator: "\n").map(String.init)
        // On PostgreSQL the spool's `database` is one of them.
        let database = spool.spoolDatabase.configurationLine
        #expect(Set(changed) == Set(["spool_directory = \(spool.spool)", "settle_time = 0s", "minimal_backoff_time = 1s",
                                     "maximal_backoff_time = 2s", "max_attempts = 7"] + (database.isEmpty ? [] : [database])))

        try "max_rows = lots\n".write(toFile: spool.root + "/bad.cf", atomically: false, encoding: .utf8)
        #expect(try spool.run(["config"], environment: ["MASSIVA_CONFIG": spool.root + "/bad.cf"]).status == 2)
    }

    @Test func aBadRegistryFileIsReportedByLineAndNothingIsImported() throws {
        let spool = try Spool()
        let bad = spool.root + "/bad-registry"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        var pods = try String(contentsOfFile: samplesDirectory + "/registry/pods.csv", encoding: .utf8).components(separatedBy: "\n")
        var devices = try String(contentsOfFile: samplesDirectory + "/registry/devices.csv", encoding: .utf8).components(separatedBy: "\n")
        pods[4] = "IT001X0000000,12,,M3,,yes,true,reachable,X"          // line 5
        devices[2] = "16MOMSPC3,DC26,Toaster,acme"                       // line 3
        try pods.joined(separator: "\n").write(toFile: bad + "/pods.csv", atomically: false, encoding: .utf8)
        try devices.joined(separator: "\n").write(toFile: bad + "/devices.csv", atomically: false, encoding: .utf8)

        let r = try spool.run(["registry", "import", bad])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pods.csv:5"), "\(r.stderr)")
        #expect(r.stderr.contains("devices.csv:3"), "\(r.stderr)")
        #expect(!r.stderr.contains("pods.csv:4:") && !r.stderr.contains("pods.csv:6:"))
        #expect(try spool.sqlInt("SELECT count(*) FROM pods") == 0)
        #expect(try spool.sqlInt("SELECT count(*) FROM devices") == 0)

        // A good import, some associations, then a re-import keeps them; a bad one changes nothing.
        try spool.setUpSamples()
        let podCount = try spool.sqlInt("SELECT count(*) FROM pods")
        #expect(podCount == pods.filter { !$0.isEmpty }.count - 1)
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.ok(["serve", "--once"])
        let associations = try spool.sql("SELECT pod, sid, production_pod FROM associations ORDER BY pod")
        #expect(associations.count == 20)
        try spool.ok(["registry", "import", samplesDirectory + "/registry"])
        #expect(try spool.sql("SELECT pod, sid, production_pod FROM associations ORDER BY pod") == associations)
        #expect(try spool.run(["registry", "import", bad]).status == 1)
        #expect(try spool.sqlInt("SELECT count(*) FROM pods") == podCount)
        #expect(try spool.sql("SELECT pod, sid, production_pod FROM associations ORDER BY pod") == associations)
    }

    @Test func tenantAddRefusesABadIdWithStatus2() throws {
        let spool = try Spool()
        for bad in ["ACME", "../escape", "a/b", "", "-leading", String(repeating: "a", count: 65), "spa ce"] {
            let r = try spool.run(["tenant", "add", bad, "--name", "X"])
            #expect(r.status == 2, "\"\(bad)\": \(r.stderr)")
        }
        #expect(try spool.run(["tenant", "add", "acme"]).status == 2)  // --name is required
        try spool.ok(["tenant", "add", "acme", "--name", "ACME"])
        #expect(FileManager.default.fileExists(atPath: spool.incoming("acme")))
        #expect(FileManager.default.fileExists(atPath: spool.results("acme")))
        #expect(try spool.run(["tenant", "add", "acme", "--name", "ACME"]).status == 1)
        #expect(spool.list(spool.spool + "/tenants") == ["acme"])
    }
}
