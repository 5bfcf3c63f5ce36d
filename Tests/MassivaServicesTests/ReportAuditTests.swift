import Foundation
import MassivaDomain
import MassivaProcessing
import MassivaResults
import MassivaStore
import MassivaRegistry
import MassivaServices
import MassivaSpool
import MassivaSystem
import Testing

/// Noon, local time, of `day`.
func noon(_ day: String) -> Double {
    DateRange.localMidnight(CalendarDay(iso: day)!) + 12 * 3600
}

/// Associations made at known times: acme on 2025-03-01, 2025-03-10 (two), 2025-03-20; beta on 2025-03-10.
func seeded() throws -> Fixture {
    let f = try Fixture()
    let out = try f.outDirectory()
    func make(_ tenant: String, _ pod: String, _ sid: String, _ type: String, _ configurator: String, _ day: String) throws {
        _ = try f.services(clock: { noon(day) }).associate(AssociateRequest(
            tenant: tenant, pod: pod, sid: sid, configurationType: type, configurator: configurator, scpDirectory: out))
    }
    try make("acme", Fixture.standard, Fixture.sid1, "Standard", "Mario Rossi", "2025-03-01")
    try make("acme", Fixture.prosumer, Fixture.sid2, "Prosumer", "Luigi Verdi", "2025-03-10")
    try make("beta", Fixture.other, Fixture.betaSID, "Standard", "Anna Bianchi", "2025-03-10")
    _ = try? make("acme", Fixture.flaky, Fixture.sid3, "Standard", "Mario Rossi", "2025-03-19")   // probe 1 fails: exit 4
    try make("acme", Fixture.flaky, Fixture.sid3, "Standard", "Mario Rossi", "2025-03-20")
    return f
}


@Suite struct ReportTests {
    @Test func anSISeesOnlyItsOwnAssociations() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        _ = try f.services().associate(AssociateRequest(tenant: "acme", pod: Fixture.standard, sid: Fixture.sid1, configurationType: "Standard",
                                                        configurator: "m", scpDirectory: out))
        _ = try f.services().associate(AssociateRequest(tenant: "beta", pod: Fixture.other, sid: Fixture.betaSID, configurationType: "Standard",
                                                        configurator: "b", scpDirectory: out))
        // The manual's note: at least one filter, or --all.
        let bare = f.run("report", "--tenant", "acme", "--csv")
        #expect(bare.status == 2 && bare.err.contains("almeno un criterio") && bare.out.isEmpty)
        let acme = f.run("report", "--tenant", "acme", "--all", "--csv")
        #expect(acme.status == 0)
        let rows = csvRows(acme.bytes)
        #expect(rows.map { $0[0] } == ["POD", Fixture.standard])
        #expect(!acme.out.contains(Fixture.other) && !acme.out.contains(Fixture.betaSID))
        // Even filtering on the other SI's POD or SID shows nothing.
        #expect(csvRows(f.run("report", "--tenant", "acme", "--pod", Fixture.other, "--csv").bytes).count == 1)
        #expect(csvRows(f.run("report", "--tenant", "acme", "--sid", Fixture.betaSID, "--csv").bytes).count == 1)
        let all = csvRows(f.run("report", "--all-tenants", "--all", "--csv").bytes)
        #expect(Set(all.dropFirst().map { $0[7] }) == ["ACME Impianti S.r.l.", "Beta Energia S.p.A."])
    }

    @Test func columnsOfTabella1WithGesis() throws {
        let f = try seeded()
        let rows = csvRows(f.run("report", "--tenant", "acme", "--pod", Fixture.prosumer, "--csv").bytes)
        #expect(rows[0] == ["POD", "SID", "NID", "TIPO DISPOSITIVO", "TIPO ASSOCIAZIONE", "POD PRODUZIONE", "NOME CONFIGURATORE",
                            "DITTA CONFIGURATRICE", "DATA ASSOCIAZIONE", "GESIS"])
        #expect(rows.count == 2)
        #expect(rows[1] == [Fixture.prosumer, Fixture.sid2, "DC2620000002", "Smart Info", "Prosumer", Fixture.productionA, "Luigi Verdi",
                            "ACME Impianti S.r.l.", SystemClock.iso8601(noon("2025-03-10")), "SI"])
        // A production POD finds its association too.
        #expect(csvRows(f.run("report", "--tenant", "acme", "--pod", Fixture.productionA, "--csv").bytes).count == 2)
    }

    @Test(arguments: [
        (["--from", "2025-03-10"], [Fixture.prosumer, Fixture.flaky]),
        (["--to", "2025-03-10"], [Fixture.standard, Fixture.prosumer]),
        (["--from", "2025-03-10", "--to", "2025-03-10"], [Fixture.prosumer]),
        (["--from", "2025-03-02", "--to", "2025-03-09"], []),
        (["--from", "2025-03-01", "--to", "2025-03-20"], [Fixture.standard, Fixture.prosumer, Fixture.flaky]),
        (["--configurator", "rossi"], [Fixture.standard, Fixture.flaky]),
        (["--nid", "dc2620000002"], [Fixture.prosumer]),
        (["--sid", Fixture.sid3], [Fixture.flaky]),
    ])
    func filters(arguments: [String], expected: [String]) throws {
        let f = try seeded()
        let r = f.runArray(["report", "--tenant", "acme", "--csv"] + arguments)
        #expect(r.status == 0, "\(r.err)")
        #expect(csvRows(Array(r.out.utf8)).dropFirst().map { $0[0] } == expected)
    }

    @Test(arguments: [
        ["--tenant", "acme", "--from", "2025-13-01"],
        ["--tenant", "acme", "--to", "2025-02-30"],
        ["--tenant", "acme", "--from", "10/03/2025"],
        ["--tenant", "acme", "--from", "2025-03-10", "--to", "2025-03-01"],
        ["--tenant", "nobody"],
        [],
        ["--tenant", "acme", "--all-tenants"],
    ])
    func badInput(arguments: [String]) throws {
        let f = try Fixture()
        let r = f.runArray(["report"] + arguments)
        #expect(r.status == 2)
        #expect(!r.err.isEmpty)
        #expect(r.out.isEmpty)
    }

    @Test func associationListFollowsBulkRowsToo() throws {
        let f = try Fixture()
        let id = try f.store.database.transaction {
            try f.store.createRequest(tenant: "acme", fileName: "a.csv", configurator: "sftp-acme", claimName: nil,
                                      content: Array("POD;SID;TIPO\n\(Fixture.prosumer);\(Fixture.sid4);Prosumer\n".utf8), rejection: nil, now: 1)
        }
        let processor = RequestProcessor(store: f.store, registry: f.registry, policy: ProcessingPolicy(
            maxRows: 100, maxAttempts: 3, backoff: Backoff(minimal: 60, maximal: 600), jitter: { 0 }))
        _ = try processor.processQueued(id, now: noon("2025-04-01"))
        let writer = ResultWriter(layout: f.layout, store: f.store, files: ResultFiles(), clock: { noon("2025-04-01") })
        try writer.refresh()
        try writer.refreshAssociationLists(from: f.registry)
        let rows = csvRows(try #require(f.readFile(f.layout.results("acme") + "/associazioni.csv")))
        #expect(rows.count == 2 && rows[1][0] == Fixture.prosumer && rows[1][9] == "SI")
        // esito.csv flags the same GESIS meter.
        let esito = csvRows(try #require(f.readFile(f.layout.resultFolder("acme", id.description) + "/esito.csv")))
        #expect(esito[1][ResultFiles.esitoHeader.firstIndex(of: "GESIS")!] == "SI")
        // And the search.
        #expect(try f.services().search(pod: Fixture.prosumer, tenant: "acme", configurator: "m").lines[0].gesis)
        // Nothing stale left: a second refresh writes nothing.
        #expect(try writer.refreshAssociationLists(from: f.registry) == 0)
    }
}

@Suite struct AuditTests {
    @Test func everyServiceCallIsRecorded() throws {
        let f = try Fixture()
        let out = try f.outDirectory()
        _ = f.run("search", Fixture.standard, "--tenant", "acme", "--configurator", "Mario")
        _ = f.run("search", Fixture.unknown, "--tenant", "acme", "--configurator", "Mario")
        _ = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard",
                  "--configurator", "Mario", "--out", out)
        _ = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid2, "--type", "Standard",
                  "--configurator", "Mario", "--out", out)
        _ = f.run("dissociate", "--tenant", "beta", "--pod", Fixture.standard, "--configurator", "Anna")
        _ = f.run("dissociate", "--tenant", "acme", "--pod", Fixture.standard, "--configurator", "Mario")
        let entries = try f.auditEntries()
        #expect(entries.map(\.action) == [.search, .search, .associate, .associate, .dissociate, .dissociate])
        #expect(entries.map(\.outcome) == ["OK", "POD_NOT_FOUND", "OK", "POD_ALREADY_ASSOCIATED", "NOT_OWNED", "OK"])
        #expect(entries.map(\.tenant) == ["acme", "acme", "acme", "acme", "beta", "acme"])
        #expect(entries.allSatisfy { $0.pod == Fixture.standard || $0.pod == Fixture.unknown })
        #expect(entries[4].configurator == "Anna")
        #expect(entries[2].sid == Fixture.sid1)
        let r = f.run("audit", "--tenant", "beta", "--csv")
        #expect(r.status == 0)
        let rows = csvRows(r.bytes)
        #expect(rows.count == 2 && rows[1][3] == "dissociate" && rows[1][7] == "NOT_OWNED")
    }

    @Test func bulkRowDecisionsAreRecordedInTheirTransaction() throws {
        let f = try Fixture()
        let content = """
        POD;Identificativo MOME/Smart INFO;Tipo Configurazione
        \(Fixture.standard);\(Fixture.sid1);Standard
        \(Fixture.standard);\(Fixture.sid2);Standard
        \(Fixture.unreachable);\(Fixture.sid3);Standard
        IT0;\(Fixture.sid4);Standard

        """
        let id = try f.store.database.transaction {
            try f.store.createRequest(tenant: "acme", fileName: "a.csv", configurator: "sftp-acme", claimName: nil,
                                      content: Array(content.utf8), rejection: nil, now: 1)
        }
        let processor = RequestProcessor(store: f.store, registry: f.registry, policy: ProcessingPolicy(
            maxRows: 100, maxAttempts: 3, backoff: Backoff(minimal: 60, maximal: 600), jitter: { 0 }))
        _ = try processor.processQueued(id, now: 1000)
        let entries = try f.auditEntries()
        #expect(entries.map(\.outcome) == ["OK", "DUPLICATE_POD", "METER_UNREACHABLE", "INVALID_POD"])
        #expect(entries.allSatisfy { $0.action == .bulkRow && $0.request == id.description && $0.configurator == "sftp-acme" })
        _ = try processor.retryDue(id, now: 1000 + 61)
        #expect(try f.auditEntries().count == 5)

        // A registry outage rolls back the pass: no row decision, no audit entry.
        let id2 = try f.store.database.transaction {
            try f.store.createRequest(tenant: "acme", fileName: "b.csv", configurator: "sftp-acme", claimName: nil,
                                      content: Array("\(Fixture.other);\(Fixture.sid4);Standard\n".utf8), rejection: nil, now: 2)
        }
        let down = RequestProcessor(store: f.store, registry: OutageRegistryDouble(f.registry, failingWith: RegistryError.unavailable("down")),
                                    policy: processor.policy)
        #expect(throws: RegistryError.self) { try down.processQueued(id2, now: 2000) }
        #expect(try f.auditEntries().count == 5)
    }

    @Test func theTrailCannotBeEditedOrDeleted() throws {
        let f = try Fixture()
        _ = f.run("search", Fixture.standard, "--tenant", "acme")
        #expect(try f.auditEntries().count == 1)
        #expect(throws: (any Error).self) { try f.store.database.run("UPDATE audit SET outcome = 'X'") }
        #expect(throws: (any Error).self) { try f.store.database.run("DELETE FROM audit") }
        #expect(try f.auditEntries().first?.outcome == "OK")
    }

    @Test func dateAndPODFilters() throws {
        let f = try Fixture()
        for day in ["2025-05-01", "2025-05-02", "2025-05-03"] {
            _ = try? f.services(clock: { noon(day) }).search(pod: Fixture.standard, tenant: "acme", configurator: day)
        }
        _ = try? f.services(clock: { noon("2025-05-02") }).search(pod: Fixture.other, tenant: "beta", configurator: "x")
        let s = f.services()
        #expect(try s.auditEntries(tenant: nil, pod: nil, dates: DateRange.parse(from: "2025-05-02", to: "2025-05-02")).count == 2)
        #expect(try s.auditEntries(tenant: "acme", pod: nil, dates: DateRange.parse(from: "2025-05-02", to: nil)).map(\.configurator)
                == ["2025-05-02", "2025-05-03"])
        #expect(try s.auditEntries(tenant: nil, pod: Fixture.other, dates: DateRange()).count == 1)
        let r = f.run("audit", "--from", "2025-05-03", "--to", "2025-05-03", "--csv")
        #expect(r.status == 0 && csvRows(r.bytes).count == 2)
        #expect(f.run("audit", "--from", "yesterday").status == 2)
    }
}
