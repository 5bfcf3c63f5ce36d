import MassivaCLI
import MassivaDomain
import MassivaRegistry
import MassivaServices
import Testing

@Suite struct TaxCodeMaskTests {
    @Test func showsFirstThreeAndLastCharacter() {
        #expect(TaxCodeMask.mask("RSSMRA80A01H501U") == "RSS************U")
        #expect(TaxCodeMask.mask("01234567890") == "012*******0")
        #expect(TaxCodeMask.mask("ABCDE") == "ABC*E")
    }

    @Test func shortCodesAreMaskedEntirely() {
        #expect(TaxCodeMask.mask("ABCD") == "****")
        #expect(TaxCodeMask.mask("") == "")
    }
}

@Suite struct SearchTests {
    @Test func standardPOD() throws {
        let f = try Fixture()
        let r = f.run("search", Fixture.standard, "--tenant", "acme")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("IT001E00000001"))
        #expect(r.out.contains("RSS************U"))
        #expect(!r.out.contains("RSSMRA80A01H501U"))
        #expect(r.out.contains("NON ASSOCIATO"))
        #expect(r.out.contains("ABCDE00001") && r.out.contains("100000001"))
    }

    @Test func prosumerListsExchangeFirstThenProductionPODsAlphabetically() throws {
        let f = try Fixture()
        for searched in [Fixture.prosumer, Fixture.productionB] {
            let result = try f.services().search(pod: searched, tenant: "acme", configurator: "mario")
            #expect(result.lines.map(\.pod) == [Fixture.prosumer, Fixture.productionA, Fixture.productionB])
            #expect(result.lines.map(\.meterType) == [.exchange, .production, .production])
            #expect(result.lines.allSatisfy { !$0.associated })
            #expect(result.lines[0].gesis)               // matricola ABCDEN0002: 6th character N
            #expect(!result.lines[1].gesis)
        }
    }

    @Test func csvOutputHasTheResultFilesDialectAndGesisFlag() throws {
        let f = try Fixture()
        let r = f.run("search", Fixture.prosumer, "--tenant", "acme", "--csv")
        #expect(r.status == 0)
        #expect(Array(r.bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let rows = csvRows(r.bytes)
        #expect(rows.count == 4)
        #expect(rows[0][0] == "POD" && rows[0].last == "GESIS")
        #expect(rows[1][0] == Fixture.prosumer && rows[1].last == "SI")
        #expect(rows[1][2] == "012*******0")
        #expect(rows[2][0] == Fixture.productionA && rows[2].last == "")
    }

    @Test(arguments: [
        (Fixture.unknown, Int32(3), "POD inserito inesistente"),
        (Fixture.notTelemanaged, Int32(4), "Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo MOME/Smart Info"),
        (Fixture.notEligible, Int32(4), "Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo MOME/Smart Info"),
        (Fixture.unreachable, Int32(4), "Siamo spiacenti ma al momento la fornitura selezionata non consente l'utilizzo del dispositivo MOME/Smart Info"),
        ("IT001X00000001", Int32(2), "POD non valido"),
        ("IT001E000000011X", Int32(2), "POD non valido"),
    ])
    func errorOutcomes(pod: String, status: Int32, message: String) throws {
        let f = try Fixture()
        let r = f.run("search", pod, "--tenant", "acme")
        #expect(r.status == status)
        #expect(r.err.contains(message), "\(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func unreachabilityCanBeTemporary() throws {
        let f = try Fixture()
        #expect(f.run("search", Fixture.flaky, "--tenant", "acme").status == 4)
        #expect(f.run("search", Fixture.flaky, "--tenant", "acme").status == 0)
    }

    @Test func unknownOrDisabledTenant() throws {
        let f = try Fixture()
        let unknown = f.run("search", Fixture.standard, "--tenant", "nobody")
        #expect(unknown.status == 2 && unknown.err.contains("unknown tenant"))
        let disabled = f.run("search", Fixture.standard, "--tenant", "gamma")
        #expect(disabled.status == 8 && disabled.err.contains("disabilitata"))
    }

    @Test func serviceUnavailable() throws {
        let f = try Fixture()
        let s = f.services(registry: OutageRegistryDouble(f.registry, failingWith: RegistryError.unavailable("connection refused")))
        let error = #expect(throws: ServiceFailure.self) { try s.search(pod: Fixture.standard, tenant: "acme", configurator: "m") }
        #expect(error?.kind == .unavailable && error?.exitStatus == 5)
        #expect(error?.message == "Servizio non disponibile contattare l'assistenza")
    }

    @Test func internalError() throws {
        let f = try Fixture()
        let s = f.services(registry: OutageRegistryDouble(f.registry, failingWith: RegistryError.internalError("bad record")))
        let error = #expect(throws: ServiceFailure.self) { try s.search(pod: Fixture.standard, tenant: "acme", configurator: "m") }
        #expect(error?.exitStatus == 6 && error?.message == "Errore Interno contattare l'assistenza")
    }

    @Test func internalErrorOnInconsistentMasterData() throws {
        let f = try Fixture()
        // A production POD whose exchange POD is missing: data extraction problem, not "inesistente".
        try f.store.database.run("INSERT INTO pods VALUES('IT001E00000099','100000099','X','M2','IT001E00000098',1,1,'reachable','ZZZ')")
        let r = f.run("search", "IT001E00000099", "--tenant", "acme")
        #expect(r.status == 6)
        #expect(r.err.contains("Errore Interno contattare l'assistenza"))
    }

    @Test func genericError() throws {
        let f = try Fixture()
        let s = f.services(registry: OutageRegistryDouble(f.registry, failingWith: SomeBackendFault()))
        let error = #expect(throws: ServiceFailure.self) { try s.search(pod: Fixture.standard, tenant: "acme", configurator: "m") }
        #expect(error?.exitStatus == 7 && error?.message == "Errore Generico contattare l'assistenza")
    }

    @Test func anotherSIsAssociationShowsAsAssociatedWithoutDetails() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.prosumer, "--sid", Fixture.sid1, "--type", "Prosumer",
                      "--out", out).status == 0)
        let own = try f.services().search(pod: Fixture.prosumer, tenant: "acme", configurator: "m")
        #expect(own.lines[0].associated && own.lines[0].sid == Fixture.sid1)
        #expect(own.lines[1].associated && own.lines[1].sid == Fixture.sid1)   // production A, the default choice
        #expect(!own.lines[2].associated)
        let theirs = f.run("search", Fixture.prosumer, "--tenant", "beta")
        #expect(theirs.status == 0)
        #expect(theirs.out.contains("ASSOCIATO"))
        #expect(!theirs.out.contains(Fixture.sid1))
        let lines = try f.services().search(pod: Fixture.prosumer, tenant: "beta", configurator: "m").lines
        #expect(lines[0].associated && lines[0].sid == nil && lines[0].configurationType == nil)
    }

    @Test func anotherSIsSIDShowsOnNoLineWhicheverPODIsSearched() throws {
        let f = try Fixture()
        #expect(f.run("associate", "--tenant", "acme", "--pod", Fixture.prosumer, "--sid", Fixture.sid1, "--type", "Prosumer",
                      "--out", try f.outDirectory()).status == 0)
        // beta searches the exchange POD and the production POD acme bound: both ASSOCIATO, no SID,
        // no configuration type, and neither acme's SID nor its NID anywhere in the output.
        for searched in [Fixture.prosumer, Fixture.productionA] {
            let lines = try f.services().search(pod: searched, tenant: "beta", configurator: "m").lines
            #expect(lines.map(\.associated) == [true, true, false])
            #expect(lines.allSatisfy { $0.sid == nil && $0.configurationType == nil })
            for csv in [false, true] {
                let r = f.runArray(["search", searched, "--tenant", "beta"] + (csv ? ["--csv"] : []))
                #expect(r.status == 0)
                #expect(!r.out.contains(Fixture.sid1) && !r.out.contains(Fixture.nid1), "\(r.out)")
            }
        }
        // acme's own search shows its SID on both lines it holds.
        let own = try f.services().search(pod: Fixture.productionA, tenant: "acme", configurator: "m").lines
        #expect(own.map(\.sid) == [Fixture.sid1, Fixture.sid1, nil])
    }

    @Test func valuesAreReadWithTheBulkRowsRule() throws {
        let f = try Fixture()
        // Lower case ASCII is upper-cased; a dotless ı is not turned into I (Unicode would).
        #expect(f.run("search", " " + Fixture.standard.lowercased() + "\t", "--tenant", "acme").status == 0)
        let dotless = f.run("search", "\u{0131}" + Fixture.standard.lowercased().dropFirst(), "--tenant", "acme")
        #expect(dotless.status == 2 && dotless.err.contains("POD non valido"), "\(dotless.err)")
    }

    @Test func helpDocumentsExitStatuses() throws {
        let f = try Fixture()
        let r = f.run("search", "--help")
        #expect(r.status == 0)
        for code in ["3  POD inserito inesistente", "5  Servizio non disponibile", "6  Errore Interno", "7  Errore Generico"] {
            #expect(r.out.contains(code))
        }
    }
}
