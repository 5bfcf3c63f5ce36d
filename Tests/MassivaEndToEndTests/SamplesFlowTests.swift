import Foundation
import Glibc
import Testing

/// The built binary on the samples, against samples/requests/README.md.
@Suite struct SamplesFlowTests {
    func check(_ spool: Spool, _ expected: SampleExpectations.File, tenant: String) throws {
        let ids = try spool.requestIDs(tenant: tenant, file: expected.name)
        #expect(ids.count == 1, "\(expected.name): \(ids)")
        guard let id = ids.first else { return }
        let rows = try spool.esito(tenant: tenant, id: id)
        #expect(rows.count == expected.rows.count, "\(expected.name)")
        for (row, want) in zip(rows, expected.rows) {
            let at = "\(expected.name):\(want.line)"
            #expect(row["POD"] == want.pod, "\(at)")
            #expect(row["CODICE"] == want.code, "\(at)")
            #expect(row["ESITO"] == want.esito, "\(at)")
            #expect(row["TENTATIVI"] == String(want.attempts), "\(at)")
            if let production = want.productionPOD { #expect(row["POD PRODUZIONE"] == production, "\(at)") }
            // The README marks GESIS meters on the associated rows (an error row may show it too).
            if want.code == "OK" { #expect((row["GESIS"] == "SI") == want.gesis, "\(at)") }
        }
        let stato = try spool.stato(tenant: tenant, id: id)
        #expect(stato["status"] as? String == "done", "\(expected.name)")
        #expect(stato["outcome"] as? String == expected.outcome, "\(expected.name)")
        #expect(stato["rows_failed"] as? Int == expected.errors, "\(expected.name)")
        let listed = try #require(try spool.requestList(tenant).first { $0[0] == id })
        #expect(listed[4] == expected.progress, "\(expected.name)")
        #expect(listed[5] == String(expected.errors), "\(expected.name)")
        #expect(listed[6] == expected.outcome, "\(expected.name)")
        #expect(try spool.zipEntryCount(spool.results(tenant) + "/\(id)/scp.zip") == expected.scripts, "\(expected.name)")
        // richiesta.csv is the upload, byte for byte.
        let uploaded = try Data(contentsOf: URL(fileURLWithPath: samplesDirectory + "/requests/" + expected.name))
        #expect(try Data(contentsOf: URL(fileURLWithPath: spool.results(tenant) + "/\(id)/richiesta.csv")) == uploaded)
    }

    func isDone(_ spool: Spool, tenant: String, file: String) throws -> Bool {
        guard let id = try spool.requestIDs(tenant: tenant, file: file).first else { return false }
        return try spool.stato(tenant: tenant, id: id)["status"] as? String == "done"
    }

    @Test func theSamplesGiveTheDocumentedOutcomes() throws {
        let expectations = try SampleExpectations.load()
        let clean = try #require(expectations.files["acme-clean.csv"])
        let everyError = try #require(expectations.files["acme-every-error.csv"])
        let excel = try #require(expectations.files["voltaic-excel.csv"])
        // The README parsed as documented (a guard against a parser that reads nothing).
        #expect(clean.rows.count == 20 && everyError.rows.count == 31 && excel.rows.count == 11)
        #expect(everyError.scripts == 8 && everyError.errors == 23 && everyError.progress == "31/31")

        let spool = try Spool()
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.serveUntil { try isDone(spool, tenant: "acme", file: "acme-clean.csv") }
        try check(spool, clean, tenant: "acme")

        try spool.copySample("acme-every-error.csv", to: "acme")
        try spool.copySample("voltaic-excel.csv", to: "voltaic")
        var sawWaiting = false
        try spool.serveUntil {
            if !sawWaiting, let id = try spool.requestIDs(tenant: "acme", file: "acme-every-error.csv").first,
               try spool.stato(tenant: "acme", id: id)["status"] as? String == "processing" {
                // While rows wait, the SCPs of the rows already associated are there.
                sawWaiting = true
                let rows = try spool.esito(tenant: "acme", id: id)
                #expect(rows.contains { $0["ESITO"] == "In attesa" })
                let ok = rows.filter { $0["CODICE"] == "OK" }.count
                #expect(ok > 0)
                #expect(try spool.zipEntryCount(spool.results("acme") + "/\(id)/scp.zip") == ok)
            }
            return try isDone(spool, tenant: "acme", file: "acme-every-error.csv")
                && isDone(spool, tenant: "voltaic", file: "voltaic-excel.csv")
        }
        #expect(sawWaiting)
        try check(spool, everyError, tenant: "acme")
        try check(spool, excel, tenant: "voltaic")
        #expect(spool.list(spool.incoming("acme")).isEmpty)
        #expect(spool.list(spool.incoming("voltaic")).isEmpty)
        // The list shows the voltaic request only to voltaic.
        #expect(try spool.requestList("acme").count == 2)
        #expect(try spool.requestList("voltaic").count == 1)
        let listed = try spool.ok(["list"]).stdout
        #expect(listed.contains("acme-every-error.csv") && listed.contains("voltaic-excel.csv"))
        let shown = try spool.ok(["show", try spool.requestIDs(tenant: "acme", file: "acme-every-error.csv")[0]]).stdout
        #expect(shown.contains("MAX_ATTEMPTS_REACHED"))
    }

    @Test func theTemplateAloneIsRejected() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try FileManager.default.copyItem(atPath: samplesDirectory + "/template.csv", toPath: spool.incoming("acme") + "/template.csv")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "template.csv").first)
        let stato = try spool.stato(tenant: "acme", id: id)
        #expect(stato["status"] as? String == "rejected")
        #expect((stato["outcome"] as? String)?.hasPrefix("Rifiutato: ") == true)
    }
}
