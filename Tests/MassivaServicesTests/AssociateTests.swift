import Foundation
import MassivaCLI
import MassivaDomain
import MassivaRegistry
import MassivaServices
import MassivaSpool
import MassivaResults
import MassivaStore
import Testing

@Suite struct AssociateTests {
    @Test func standardAssociationWritesSCPAndList() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard.lowercased(), "--sid", Fixture.sid1,
                      "--type", "standard", "--configurator", "Mario Rossi", "--out", out)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("Associazione effettuata"))
        let a = try #require(try f.registry.association(pod: Fixture.standard))
        #expect(a.tenant == "acme" && a.sid == Fixture.sid1 && a.configurationType == .standard && a.productionPOD == nil)
        #expect(a.configurator == "Mario Rossi" && a.request == nil && a.nid == Fixture.nid1)
        let scp = try #require(f.readFile(out + "/\(Fixture.sid1)_\(Fixture.standard).scp"))
        let script = try ScpScript.parse(scp)
        #expect(script.exchangePOD == Fixture.standard && script.configurationType == .standard && script.matricola == "ABCDE00001")
        #expect(script.requestID == AssociateResult.scpRequestLabel)
        // associazioni.csv of acme is current, beta's has only its header.
        let list = try #require(f.readFile(f.layout.results("acme") + "/associazioni.csv"))
        #expect(Array(list.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: list, as: UTF8.self).contains("\r\n"))
        let rows = csvRows(list)
        #expect(rows[0] == ResultFiles.associationListHeader)
        #expect(rows.count == 2 && rows[1][0] == Fixture.standard && rows[1][6] == "Mario Rossi" && rows[1][7] == "ACME Impianti S.r.l.")
        #expect(csvRows(try #require(f.readFile(f.layout.results("beta") + "/associazioni.csv"))).count == 1)
    }

    @Test func prosumerTakesFirstProductionPODByDefault() throws {
        let f = try Fixture()
        let result = try f.services().associate(AssociateRequest(
            tenant: "acme", pod: Fixture.prosumer, sid: Fixture.sid1, configurationType: "Prosumer", configurator: "m",
            scpDirectory: try f.outDirectory()))
        #expect(result.association.productionPOD == Fixture.productionA)
        #expect(result.record.gesis && result.script.gesis)
        #expect(try ScpScript.parse(try #require(f.readFile(result.scpPath))).productionPOD == Fixture.productionA)
    }

    @Test func prosumerMayChooseAnyProductionPODOfTheExchangePOD() throws {
        let f = try Fixture()
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.prosumer, "--sid", Fixture.sid1, "--type", "Prosumer",
                      "--production-pod", Fixture.productionB, "--out", try f.outDirectory())
        #expect(r.status == 0, "\(r.err)")
        #expect(try f.registry.association(pod: Fixture.prosumer)?.productionPOD == Fixture.productionB)
    }

    @Test func productionPODOfAnotherExchangePODChangesNothing() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.prosumer, "--sid", Fixture.sid1, "--type", "Prosumer",
                      "--production-pod", Fixture.other, "--out", out)
        #expect(r.status == 2)
        #expect(r.err.contains("non appartiene al POD di scambio"))
        #expect(f.associationCount == 0)
        #expect(try FileSystemList(out).isEmpty)
        #expect(try f.auditEntries().last?.outcome == "PRODUCTION_POD_MISMATCH")
    }

    @Test(arguments: [
        // (pod, sid, type, production, expected exit, message fragment)
        (Fixture.standard, Fixture.nid1, "Standard", nil as String?, Int32(2), "Inserito il NID"),
        (Fixture.standard, "16SMISF81", "Standard", nil, Int32(2), "Identificativo MOME/Smart Info non valido"),
        (Fixture.standard, Fixture.sid1, "Hybrid", nil, Int32(2), "Tipo Configurazione non valido"),
        ("IT01E00000001", Fixture.sid1, "Standard", nil, Int32(2), "POD non valido"),
        (Fixture.standard, Fixture.sid1, "Standard", Fixture.productionA, Int32(2), "only for a Prosumer"),
        (Fixture.unknown, Fixture.sid1, "Standard", nil, Int32(3), "POD inserito inesistente"),
        (Fixture.notTelemanaged, Fixture.sid1, "Standard", nil, Int32(4), "POD inserito non telegestibile"),
        (Fixture.notEligible, Fixture.sid1, "Standard", nil, Int32(4), "Siamo spiacenti"),
        (Fixture.unreachable, Fixture.sid1, "Standard", nil, Int32(4), "Siamo spiacenti"),
        (Fixture.productionA, Fixture.sid1, "Standard", nil, Int32(8), "POD inserito di produzione"),
        (Fixture.standard, "16SMISF8100000077", "Standard", nil, Int32(8), "Identificativo MOME/Smart Info inesistente"),
        (Fixture.standard, Fixture.betaSID, "Standard", nil, Int32(8), "Dispositivo non appartenente"),
        (Fixture.standard, Fixture.sid1, "Prosumer", nil, Int32(8), "non ha POD di produzione"),
    ])
    func refusalsChangeNothing(pod: String, sid: String, type: String, production: String?, status: Int32, message: String) throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        var args = ["associate", "--tenant", "acme", "--pod", pod, "--sid", sid, "--type", type, "--out", out]
        if let production { args += ["--production-pod", production] }
        let capture = f.runArray(args)
        #expect(capture.status == status, "\(capture.err)")
        #expect(capture.err.contains(message), "\(capture.err)")
        #expect(f.associationCount == 0)
        #expect(try FileSystemList(out).isEmpty)
    }

    @Test func unreachableMeterIsAnErrorNotARetry() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        // flaky:1: the first probe fails (exit 4, nothing made), and that probe is remembered.
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.flaky, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 4)
        #expect(f.associationCount == 0)
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.flaky, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 0)
    }

    @Test func alreadyAssociatedByAnotherSI() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        #expect(f.run("associate", "--tenant", "beta", "--pod", Fixture.standard, "--sid", Fixture.betaSID, "--type", "Standard", "--out", out).status == 0)
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard", "--out", out)
        #expect(r.status == 8 && r.err.contains("POD inserito già associato"))
        #expect(!r.err.contains(Fixture.betaSID))
        #expect(try f.registry.association(pod: Fixture.standard)?.tenant == "beta")
    }

    @Test func deviceAlreadyAssociatedElsewhere() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 0)
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.other, "--sid", Fixture.sid1, "--type", "Standard", "--out", out)
        #expect(r.status == 8 && r.err.contains("Dispositivo già associato"))
    }

    @Test func disabledOrUnknownTenant() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        #expect(f.run("associate", "--tenant", "gamma", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 8)
        #expect(f.run("associate", "--tenant", "nobody", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 2)
        #expect(f.associationCount == 0)
    }

    @Test func missingOutputDirectoryIsBadInput() throws {
        let f = try Fixture()
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard",
                      "--out", f.root + "/missing")
        #expect(r.status == 2)
        #expect(f.associationCount == 0)
    }

    @Test func registryOutageChangesNothingAndIsAudited() throws {
        let f = try Fixture()
        let s = f.services(registry: OutageRegistryDouble(f.registry, failingWith: RegistryError.unavailable("down")))
        let error = #expect(throws: ServiceFailure.self) {
            try s.associate(AssociateRequest(tenant: "acme", pod: Fixture.standard, sid: Fixture.sid1, configurationType: "Standard",
                                             configurator: "m", scpDirectory: try f.outDirectory()))
        }
        #expect(error?.exitStatus == 5)
        #expect(f.associationCount == 0)
        let last = try #require(try f.auditEntries().last)
        #expect(last.action == .associate && last.outcome == "SERVICE_UNAVAILABLE")
    }
}

@Suite struct DissociateTests {
    @Test func removesOwnAssociationAndUpdatesList() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 0)
        #expect(csvRows(try #require(f.readFile(f.layout.results("acme") + "/associazioni.csv"))).count == 2)
        let r = f.run("dissociate", "--tenant", "acme", "--pod", Fixture.standard)
        #expect(r.status == 0, "\(r.err)")
        #expect(f.associationCount == 0)
        #expect(csvRows(try #require(f.readFile(f.layout.results("acme") + "/associazioni.csv"))).count == 1)
        // The device is free again.
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.other, "--sid", Fixture.sid1, "--type", "Standard", "--out", out).status == 0)
    }

    @Test func refusesAnotherSIsAssociation() throws {
        let f = try Fixture()
        #expect(f.run("associate", "--tenant", "beta", "--pod", Fixture.standard, "--sid", Fixture.betaSID, "--type", "Standard",
                      "--out", try f.outDirectory()).status == 0)
        let r = f.run("dissociate", "--tenant", "acme", "--pod", Fixture.standard)
        #expect(r.status == 8)
        #expect(r.err.contains("altra ditta configuratrice"))
        #expect(try f.registry.association(pod: Fixture.standard)?.tenant == "beta")
        #expect(try f.auditEntries().last?.outcome == "NOT_OWNED")
    }

    @Test func refusalsShowNothingOfAnotherSI() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.prosumer, "--sid", Fixture.sid1, "--type", "Prosumer",
                      "--out", out).status == 0)
        // beta on acme's POD, and beta with acme's device: refused, and acme's SID, NID, the
        // production POD acme bound, the meter's matricola appear nowhere (output, audit trail).
        let acmes = [Fixture.sid1, Fixture.nid1, Fixture.productionA, "ABCDEN0002", "DC2620000002"]
        let attempts: [([String], String)] = [
            (["--pod", Fixture.prosumer, "--sid", Fixture.betaSID, "--type", "Standard"], "POD_ALREADY_ASSOCIATED"),
            (["--pod", Fixture.other, "--sid", Fixture.sid2, "--type", "Standard"], "DEVICE_NOT_OWNED"),
            (["--pod", Fixture.other, "--sid", Fixture.sid1, "--type", "Standard"], "DEVICE_NOT_OWNED"),
        ]
        for (options, code) in attempts {
            let r = f.runArray(["associate", "--tenant", "beta", "--out", out] + options)
            #expect(r.status == 8, "\(options): \(r.err)")
            #expect(try f.auditEntries().last?.outcome == code)
            for secret in acmes where !options.contains(secret) {
                #expect(!r.out.contains(secret) && !r.err.contains(secret), "\(secret) shown to beta: \(r.out) \(r.err)")
            }
        }
        for entry in try f.auditEntries() where entry.tenant == "beta" {
            for secret in acmes where secret != entry.sid {
                #expect(!"\(entry)".contains(secret), "\(secret) in beta's audit entry")
            }
        }
        #expect(f.associationCount == 1)
    }

    @Test func optionsAreReadWithTheBulkRowsRule() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        // ſ (long s) in the type, ı (dotless i) in the POD: Unicode upper-casing made both valid.
        let longS = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "\u{017F}tandard", "--out", out)
        #expect(longS.status == 2 && longS.err.contains("Tipo Configurazione non valido"), "\(longS.err)")
        let dotless = f.run("associate", "--tenant", "acme", "--pod", "\u{0131}" + Fixture.standard.lowercased().dropFirst(), "--sid", Fixture.sid1,
                            "--type", "Standard", "--out", out)
        #expect(dotless.status == 2 && dotless.err.contains("POD non valido"), "\(dotless.err)")
        #expect(f.associationCount == 0)
        let ascii = f.run("associate", "--tenant", "acme", "--pod", " " + Fixture.standard.lowercased(), "--sid", Fixture.sid1.lowercased(),
                          "--type", "sTaNdArD", "--out", out)
        #expect(ascii.status == 0, "\(ascii.err)")
        #expect(try f.registry.association(pod: Fixture.standard)?.sid == Fixture.sid1)
    }

    @Test func saysNotAssociatedForNone() throws {
        let f = try Fixture()
        let r = f.run("dissociate", "--tenant", "acme", "--pod", Fixture.standard)
        #expect(r.status == 8 && r.err.contains("non associato"))
        #expect(f.run("dissociate", "--tenant", "acme", "--pod", "NOTAPOD").status == 2)
        #expect(f.run("dissociate", "--tenant", "nobody", "--pod", Fixture.standard).status == 2)
    }
}

extension Fixture {
    func runArray(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        let capture = MassivaCLI.OutputCapture()
        let status = MassivaCLI.Output.$capture.withValue(capture) {
            MassivaCLI.MassivaCommandLine.main(["massiva"] + arguments, environment: ["MASSIVA_CONFIG": configPath], clock: clock.clock)
        }
        return (status, capture.outputText, capture.errorText)
    }
}

func FileSystemList(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path)
}
