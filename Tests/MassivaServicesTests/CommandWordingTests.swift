import Foundation
import MassivaCLI
import MassivaServices
import MassivaStore
import Testing

/// The exact words and exit statuses of the service commands, and the audit entry each leaves:
/// the services return typed results and failures, the command line words them (its flags, its
/// exit statuses). These pin what a user reads and what the audit trail keeps, word for word;
/// the audit trail keeps the services' words, which name no option of the command line.
@Suite struct CommandWordingTests {
    func expectFailure(_ f: Fixture, _ arguments: [String], status: Int32, says line: String,
                       audited: (outcome: String, detail: String)?, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try f.auditEntries().count
        let capture = OutputCapture()
        let got = Output.$capture.withValue(capture) {
            MassivaCommandLine.main(["massiva"] + arguments, environment: ["MASSIVA_CONFIG": f.configPath], clock: f.clock.clock)
        }
        #expect(got == status, "\(capture.errorText)", sourceLocation: sourceLocation)
        #expect(capture.errorText == line + "\n", sourceLocation: sourceLocation)
        #expect(capture.outputText.isEmpty, sourceLocation: sourceLocation)
        let entries = try f.auditEntries()
        if let audited {
            #expect(entries.count == before + 1, sourceLocation: sourceLocation)
            #expect(entries.last?.outcome == audited.outcome, sourceLocation: sourceLocation)
            #expect(entries.last?.detail == audited.detail, sourceLocation: sourceLocation)
        } else {
            #expect(entries.count == before, sourceLocation: sourceLocation)
        }
    }

    @Test func unknownTenant() throws {
        let f = try Fixture()
        // The command line points to its own command; the audit trail keeps the service's words.
        let said = "unknown tenant \"nobody\" (see massiva tenant list)", kept = "unknown tenant \"nobody\""
        try expectFailure(f, ["search", Fixture.standard, "--tenant", "nobody", "--configurator", "m"], status: 2,
                          says: "massiva search: " + said, audited: ("UNKNOWN_TENANT", kept))
        try expectFailure(f, ["report", "--tenant", "nobody", "--all"], status: 2,
                          says: "massiva report: " + said, audited: ("UNKNOWN_TENANT", kept))
        try expectFailure(f, ["audit", "--tenant", "nobody"], status: 2, says: "massiva audit: " + said, audited: nil)
    }

    @Test func disabledTenant() throws {
        let f = try Fixture()
        let said = "la ditta configuratrice \"gamma\" è disabilitata"
        try expectFailure(f, ["dissociate", "--tenant", "gamma", "--pod", Fixture.standard, "--configurator", "m"], status: 8,
                          says: "massiva dissociate: " + said, audited: ("TENANT_DISABLED", said))
    }

    @Test func associateInputs() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        let base = ["associate", "--tenant", "acme", "--pod", Fixture.standard, "--configurator", "m", "--out", out]
        try expectFailure(f, base + ["--sid", "", "--type", "Standard"], status: 2,
                          says: "massiva associate: give the device: --sid SID, --nid NID, or both",
                          audited: ("NO_DEVICE", "give the device: its SID, its NID, or both"))
        try expectFailure(f, base + ["--sid", Fixture.sid1, "--type", "Standard", "--production-pod", Fixture.productionA], status: 2,
                          says: "massiva associate: --production-pod is only for a Prosumer configuration",
                          audited: ("PRODUCTION_POD_NOT_ALLOWED", "a production POD is only for a Prosumer configuration"))
        let missing = f.root + "/missing"
        try expectFailure(f, ["associate", "--tenant", "acme", "--pod", Fixture.standard, "--configurator", "m", "--out", missing,
                              "--sid", Fixture.sid1, "--type", "Standard"], status: 2,
                          says: "massiva associate: \(missing): not a directory (where the SCP file is written)",
                          audited: ("INVALID_OUTPUT", "\(missing): not a directory (where the SCP file is written)"))
        #expect(f.associationCount == 0)
    }

    @Test func reportAndAuditInputs() throws {
        let f = try Fixture()
        let noFilter = "valorizzare almeno un criterio di filtro (--pod, --sid, --nid, --configurator, --given-name, "
            + "--surname, --from, --to), o --all per tutte le associazioni"
        try expectFailure(f, ["report", "--tenant", "acme"], status: 2, says: "massiva report: " + noFilter,
                          audited: ("NO_FILTER", "valorizzare almeno un criterio di filtro, o chiedere tutte le associazioni"))
        try expectFailure(f, ["report", "--tenant", "acme", "--from", "2025-13-01"], status: 2,
                          says: "massiva report: --from: \"2025-13-01\" is not a date: expected YYYY-MM-DD (e.g. 2025-03-31)", audited: nil)
        try expectFailure(f, ["report", "--tenant", "acme", "--from", "2025-05-03", "--to", "2025-05-01"], status: 2,
                          says: "massiva report: --from 2025-05-03 is after --to 2025-05-01", audited: nil)
        try expectFailure(f, ["audit", "--to", "yesterday"], status: 2,
                          says: "massiva audit: --to: \"yesterday\" is not a date: expected YYYY-MM-DD (e.g. 2025-03-31)", audited: nil)
    }

    @Test func refusalsOfDissociateAndSCP() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        try expectFailure(f, ["dissociate", "--tenant", "acme", "--pod", Fixture.standard, "--configurator", "m"], status: 8,
                          says: "massiva dissociate: POD \(Fixture.standard) non associato",
                          audited: ("NOT_ASSOCIATED", "POD \(Fixture.standard) non associato"))
        try expectFailure(f, ["scp", "--tenant", "acme", "--pod", Fixture.standard, "--configurator", "m", "--out", out], status: 8,
                          says: "massiva scp: POD \(Fixture.standard) non associato",
                          audited: ("NOT_ASSOCIATED", "POD \(Fixture.standard) non associato"))
        try expectFailure(f, ["search", Fixture.unknown, "--tenant", "acme", "--configurator", "m"], status: 3,
                          says: "massiva search: POD inserito inesistente", audited: ("POD_NOT_FOUND", "POD inserito inesistente"))
    }

    @Test func associateThenSCPThenDissociate() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        let made = f.run("associate", "--tenant", "acme", "--pod", Fixture.prosumer, "--sid", Fixture.sid1, "--type", "Prosumer",
                         "--configurator", "Mario Rossi", "--out", out)
        let scpPath = "\(out)/\(Fixture.sid1)_\(Fixture.prosumer).scp"
        #expect(made.status == 0, "\(made.err)")
        #expect(made.err.isEmpty)
        #expect(made.out == """
            Associazione effettuata: POD \(Fixture.prosumer) - Smart Info \(Fixture.sid1) (NID \(Fixture.nid1))
            tipo configurazione: Prosumer, POD di produzione \(Fixture.productionA)
            matricola ABCDEN0002, Eneltel 100000002, GESIS: SI (le letture vanno moltiplicate per il fattore K)
            System Integrator: ACME Impianti S.r.l. (configuratore Mario Rossi)
            file SCP: \(scpPath)
            di nuovo in ogni momento: massiva scp --tenant acme --pod \(Fixture.prosumer)

            """)
        #expect(try f.auditEntries().last?.detail == "Prosumer \(Fixture.productionA)")
        let again = try f.outDirectory("again")
        let scp = f.run("scp", "--tenant", "acme", "--pod", Fixture.productionA, "--configurator", "m", "--out", again)
        #expect(scp.status == 0, "\(scp.err)")
        #expect(scp.out == """
            POD \(Fixture.prosumer) - Smart Info \(Fixture.sid1) (NID \(Fixture.nid1)), Prosumer, POD di produzione \(Fixture.productionA)
            System Integrator: ACME Impianti S.r.l. (configuratore Mario Rossi)
            file SCP: \(again)/\(Fixture.sid1)_\(Fixture.prosumer).scp

            """)
        #expect(try f.auditEntries().last?.detail == "SID \(Fixture.sid1) \(again)/\(Fixture.sid1)_\(Fixture.prosumer).scp")
        try expectFailure(f, ["dissociate", "--tenant", "beta", "--pod", Fixture.prosumer, "--configurator", "m"], status: 8,
                          says: "massiva dissociate: POD \(Fixture.prosumer) associato da un'altra ditta configuratrice: associazione non modificabile",
                          audited: ("NOT_OWNED", "POD \(Fixture.prosumer) associato da un'altra ditta configuratrice: associazione non modificabile"))
        try expectFailure(f, ["dissociate", "--tenant", "acme", "--pod", Fixture.productionA, "--configurator", "m"], status: 8,
                          says: "massiva dissociate: il POD \(Fixture.productionA) è di produzione: indicare il POD di scambio \(Fixture.prosumer)",
                          audited: ("NOT_ASSOCIATED", "il POD \(Fixture.productionA) è di produzione: indicare il POD di scambio \(Fixture.prosumer)"))
        let removed = f.run("dissociate", "--tenant", "acme", "--pod", Fixture.prosumer, "--configurator", "m")
        #expect(removed.status == 0 && removed.err.isEmpty, "\(removed.err)")
        #expect(removed.out == "Associazione eliminata: POD \(Fixture.prosumer) - Smart Info \(Fixture.sid1)\n")
        #expect(try f.auditEntries().last?.detail == "SID \(Fixture.sid1)")
    }
}
