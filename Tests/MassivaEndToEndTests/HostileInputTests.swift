import Foundation
import Glibc
import Testing

/// Issue 8: no input, setting or fault may crash, hang, stall or mislead the engine.
@Suite(.serialized) struct HostileInputTests {
    func writeRegistry(_ directory: String, pods: (inout [String]) -> Void, devices: (inout [String]) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var p = try String(contentsOfFile: samplesDirectory + "/registry/pods.csv", encoding: .utf8).components(separatedBy: "\n")
        var d = try String(contentsOfFile: samplesDirectory + "/registry/devices.csv", encoding: .utf8).components(separatedBy: "\n")
        pods(&p)
        devices(&d)
        try p.joined(separator: "\n").write(toFile: directory + "/pods.csv", atomically: false, encoding: .utf8)
        try d.joined(separator: "\n").write(toFile: directory + "/devices.csv", atomically: false, encoding: .utf8)
    }

    @Test func registryImportRefusesControlCharactersDuplicateNIDsAndSignedCounts() throws {
        let spool = try Spool()
        let bad = spool.root + "/bad-registry"
        try writeRegistry(bad, pods: { p in
            // line 2: a quoted matricola with a line break (the record spans lines 2-3)
            p[1] = "IT001E00000001,506924381,\"00331E9\n0291065\",M1,,true,true,reachable,RTRPBI50B12L219L"
            p[3] = "IT001E00000003,506924383,0033\u{1B}1E9,M1,,true,true,flaky:+3,RTRPBI50B12L219L"
        }, devices: { d in
            d[2] = "16MOMSPC300000002,dc2609c04eba,MOME,acme"   // the NID of line 2, in lower case
            d[3] = "16MOMSPC300000003,DC26D3336C67,MOME\u{7F},acme"
        })
        let r = try spool.run(["registry", "import", bad])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pods.csv:2: matricola: control character"), "\(r.stderr)")
        #expect(r.stderr.contains("pods.csv:5: matricola: control character"), "\(r.stderr)")
        #expect(r.stderr.contains("pods.csv:5: reachability"), "\(r.stderr)")
        #expect(r.stderr.contains("devices.csv:3: nid:") && r.stderr.contains("already on line 2"), "\(r.stderr)")
        #expect(r.stderr.contains("devices.csv:4: device_type: control character"), "\(r.stderr)")
        #expect(try spool.sqlInt("SELECT count(*) FROM pods") == 0)
    }

    /// Master data an older release let in (a line break in a matricola): the row that meets it
    /// is in error, no association is made, and the engine goes on with every other row and file.
    @Test func masterDataThatCannotGoIntoAScriptFailsOnlyItsRow() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        _ = try spool.sql("UPDATE pods SET matricola = '0033' || char(10) || '1E90291065' WHERE pod = 'IT001E00000001'")
        try "POD;SID;TIPO\r\nIT001E00000001;16MOMSPC300000001;Standard\r\nIT001E00000002;16MOMSPC300000002;Standard\r\n"
            .write(toFile: spool.incoming("acme") + "/a.csv", atomically: false, encoding: .utf8)
        let first = try spool.run(["serve", "--once"])
        #expect(first.status == 0, "\(first.stderr)")
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "a.csv").first)
        let rows = try spool.esito(tenant: "acme", id: id)
        #expect(rows.map { $0["CODICE"] } == ["REGISTRY_DATA_INVALID", "OK"])
        #expect(rows.first?["ESITO"] == "In errore")
        #expect(rows.first?["DESCRIZIONE"]?.contains("Errore Interno") == true)
        #expect(try spool.sqlInt("SELECT count(*) FROM associations WHERE pod = 'IT001E00000001'") == 0)
        #expect(try spool.zipEntryCount(spool.results("acme") + "/\(id)/scp.zip") == 1)
        // The single association says so and exits with Errore Interno (6), not a crash.
        let single = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000001", "--sid", "16MOMSPC300000003",
                                    "--type", "Standard", "--out", spool.root])
        #expect(single.status == 6, "\(single.stderr)")
        // An association an older release committed with such data: its script is left out,
        // and later files of any tenant are still taken.
        _ = try spool.sql("UPDATE rows SET matricola = 'X' || char(10) || 'Y' WHERE code = 'OK'; UPDATE requests SET state_version = state_version + 1")
        try "IT001E00000004;16MOMSPC300000004;Standard\r\n".write(toFile: spool.incoming("acme") + "/b.csv", atomically: false, encoding: .utf8)
        let second = try spool.run(["serve", "--once"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try spool.requestIDs(tenant: "acme", file: "b.csv").count == 1)
        #expect(try spool.zipEntryCount(spool.results("acme") + "/\(id)/scp.zip") == 0)
    }
}
