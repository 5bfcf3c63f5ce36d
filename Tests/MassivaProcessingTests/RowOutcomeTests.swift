import Foundation
import Testing
import MassivaDomain
import MassivaSpool
import MassivaResults
import MassivaStore
import MassivaTestSupport
@testable import MassivaProcessing

/// Row outcomes: every code of the brief's table, the order of the checks, the prosumer rule,
/// the 100-row limit.
@Suite struct RowOutcomeTests {
    typealias R = TestRegistry

    /// One expected esito.csv line: the brief's table is the source of these values.
    struct Expected {
        var pod: String
        var sid: String
        var type: String
        var code: String
        var esito: String
        var attempts: Int
        var row: String { "\(pod);\(sid);\(type)" }
    }

    /// A request that associates three PODs and three devices, for checks 12 and 13 later.
    func seed(_ f: EngineFixture) throws {
        let seed = try f.submit("seed.csv", rows: [
            "\(R.ok1);\(R.mome(1));Standard",
            "\(R.ok2);\(R.smartInfo(1));Standard",
            "\(R.ok4);\(R.mome(9));Standard",
        ])
        #expect(seed.status == .done)
        #expect(seed.outcomeLabel == "Lavorato")
        #expect(try f.associationCount() == 3)
    }

    func check(_ f: EngineFixture, _ request: RequestRecord, _ expected: [Expected]) throws {
        let esito = try f.esito(request)
        #expect(esito.rows.count == expected.count)
        for (i, (row, want)) in zip(esito.rows, expected).enumerated() {
            let where_ = "row \(i + 1) \(want.row)"
            #expect(row["CODICE"] == want.code, "\(where_)")
            #expect(row["ESITO"] == want.esito, "\(where_)")
            #expect(row["TENTATIVI"] == String(want.attempts), "\(where_)")
            #expect(row["DESCRIZIONE"]?.isEmpty == false, "\(where_)")
        }
    }

    @Test func everyRowCodeWithItsEsitoAndAttempts() throws {
        let f = try EngineFixture { $0.maxAttempts = 2 }
        try seed(f)
        let expected: [Expected] = [
            Expected(pod: R.gesis, sid: R.mome(2), type: "Standard", code: "OK", esito: "Elaborato", attempts: 1),
            Expected(pod: R.ok5, sid: R.mome(3), type: "Standard;extra", code: "INVALID_ROW", esito: "In errore", attempts: 0),
            Expected(pod: R.ok5, sid: R.mome(3), type: "", code: "INVALID_ROW", esito: "In errore", attempts: 0),
            Expected(pod: "IT001E0000000501", sid: R.mome(4), type: "Standard", code: "INVALID_POD", esito: "In errore", attempts: 0),
            Expected(pod: "IT001X00000005", sid: R.mome(4), type: "Standard", code: "INVALID_POD", esito: "In errore", attempts: 0),
            Expected(pod: "", sid: R.mome(4), type: "Standard", code: "INVALID_POD", esito: "In errore", attempts: 0),
            Expected(pod: R.ok5, sid: TestRegistry.nid(of: R.mome(4)), type: "Standard", code: "NID_NOT_ALLOWED", esito: "In errore", attempts: 0),
            Expected(pod: R.ok5, sid: "16MOMSPC30000000", type: "Standard", code: "INVALID_SID", esito: "In errore", attempts: 0),
            Expected(pod: R.ok5, sid: "", type: "Standard", code: "INVALID_SID", esito: "In errore", attempts: 0),
            Expected(pod: R.ok5, sid: "16MOMSPC3000-0004", type: "Standard", code: "INVALID_SID", esito: "In errore", attempts: 0),
            Expected(pod: R.ok5, sid: R.mome(4), type: "Ibrido", code: "INVALID_CONFIG_TYPE", esito: "In errore", attempts: 0),
            Expected(pod: R.gesis, sid: R.mome(5), type: "Standard", code: "DUPLICATE_POD", esito: "In errore", attempts: 0),
            Expected(pod: R.ok6, sid: R.mome(2), type: "Standard", code: "DUPLICATE_SID", esito: "In errore", attempts: 0),
            Expected(pod: "IT001E99999999", sid: R.mome(5), type: "Standard", code: "POD_NOT_FOUND", esito: "In errore", attempts: 1),
            Expected(pod: R.firstProduction, sid: R.mome(6), type: "Standard", code: "POD_IS_PRODUCTION", esito: "In errore", attempts: 1),
            Expected(pod: R.notTelemanaged, sid: R.mome(7), type: "Standard", code: "POD_NOT_TELEMANAGED", esito: "In errore", attempts: 1),
            Expected(pod: R.notEligible, sid: R.mome(8), type: "Standard", code: "METER_NOT_ELIGIBLE", esito: "In errore", attempts: 1),
            Expected(pod: R.bankPOD(0), sid: "16MOMSPC399999999", type: "Standard", code: "DEVICE_NOT_FOUND", esito: "In errore", attempts: 1),
            Expected(pod: R.bankPOD(1), sid: R.voltaic1, type: "Standard", code: "DEVICE_NOT_OWNED", esito: "In errore", attempts: 1),
            Expected(pod: R.ok1, sid: R.mome(10), type: "Standard", code: "POD_ALREADY_ASSOCIATED", esito: "In errore", attempts: 1),
            Expected(pod: R.bankPOD(2), sid: R.smartInfo(1), type: "Standard", code: "DEVICE_ALREADY_ASSOCIATED", esito: "In errore", attempts: 1),
            Expected(pod: R.bankPOD(3), sid: R.smartInfo(2), type: "Prosumer", code: "NO_PRODUCTION_POD", esito: "In errore", attempts: 1),
            Expected(pod: R.unreachable, sid: R.smartInfo(3), type: "Standard", code: "MAX_ATTEMPTS_REACHED", esito: "In errore", attempts: 2),
            Expected(pod: R.prosumer, sid: R.smartInfo(4), type: "Prosumer", code: "OK", esito: "Elaborato", attempts: 1),
        ]
        let request = try f.submit("every-code.csv", rows: expected.map(\.row))

        // After the first pass the unreachable row waits: In attesa, one attempt, request in progress.
        #expect(request.status == .processing)
        let first = try f.esito(request).rows
        let waiting = first.filter { $0["ESITO"] == "In attesa" }
        #expect(waiting.map { $0["POD"] } == [R.unreachable])
        #expect(waiting.first?["TENTATIVI"] == "1")

        f.clock.advance(by: f.configuration.minimalBackoffTime)
        try f.runUntilIdle()
        let done = try f.request(request.id)
        #expect(done.status == .done)
        #expect(done.outcomeLabel == "Lavorato con errori: raggiunto massimo numero di tentativi")
        try check(f, done, expected)

        // The portal's own wording where it has words.
        let rows = try f.esito(done).rows
        func description(_ code: String) -> String { rows.first { $0["CODICE"] == code }?["DESCRIZIONE"] ?? "" }
        #expect(description("POD_NOT_FOUND").hasPrefix("POD inserito inesistente"))
        #expect(description("POD_NOT_TELEMANAGED").hasPrefix("POD inserito non telegestibile"))
        #expect(description("POD_ALREADY_ASSOCIATED").hasPrefix("POD inserito già associato"))
        #expect(rows.first?["GESIS"] == "SI")
        #expect(rows.last?["POD PRODUZIONE"] == R.firstProduction)

        // Only the two OK rows created associations (plus the seed's three).
        #expect(try f.associationCount() == 5)
        #expect(done.rowsTotal == expected.count)
        #expect(done.rowsProcessed == expected.count)
        #expect(done.rowsFailed == expected.filter { $0.code != "OK" }.count)
    }

    @Test func aRowWithSeveralFaultsGetsTheEarliestCode() throws {
        let f = try EngineFixture()
        try seed(f)
        let expected: [Expected] = [
            // 1 beats 2, 3, 4
            Expected(pod: "IT001X0000000", sid: TestRegistry.nid(of: R.mome(4)), type: "Ibrido;extra", code: "INVALID_ROW", esito: "In errore", attempts: 0),
            // 2 beats 3, 4
            Expected(pod: "IT001X00000005", sid: TestRegistry.nid(of: R.mome(4)), type: "Ibrido", code: "INVALID_POD", esito: "In errore", attempts: 0),
            // 3 (NID) beats 4
            Expected(pod: R.ok5, sid: TestRegistry.nid(of: R.mome(4)), type: "Ibrido", code: "NID_NOT_ALLOWED", esito: "In errore", attempts: 0),
            // 3 (SID) beats 4
            Expected(pod: R.ok5, sid: "16MOM", type: "Ibrido", code: "INVALID_SID", esito: "In errore", attempts: 0),
            // 4; and a row refused by 1–4 does not count for duplicates ...
            Expected(pod: R.bankPOD(10), sid: R.bankSID(10), type: "Ibrido", code: "INVALID_CONFIG_TYPE", esito: "In errore", attempts: 0),
            // ... so this one is not a duplicate of it
            Expected(pod: R.bankPOD(10), sid: R.bankSID(10), type: "Standard", code: "OK", esito: "Elaborato", attempts: 1),
            // 5: same POD and same SID: the POD is checked first
            Expected(pod: R.bankPOD(10), sid: R.bankSID(10), type: "Standard", code: "DUPLICATE_POD", esito: "In errore", attempts: 0),
            // 5 beats the registry checks: same SID, unknown POD
            Expected(pod: "IT001E99999990", sid: R.bankSID(10), type: "Standard", code: "DUPLICATE_SID", esito: "In errore", attempts: 0),
            // 6 beats 10
            Expected(pod: "IT001E99999999", sid: "16MOMSPC399999999", type: "Standard", code: "POD_NOT_FOUND", esito: "In errore", attempts: 1),
            // 7 beats 11
            Expected(pod: R.firstProduction, sid: R.voltaic1, type: "Standard", code: "POD_IS_PRODUCTION", esito: "In errore", attempts: 1),
            // 8 beats 9 and 10
            Expected(pod: R.neitherTelemanagedNorEligible, sid: "16MOMSPC399999998", type: "Standard", code: "POD_NOT_TELEMANAGED", esito: "In errore", attempts: 1),
            // 9 beats 10
            Expected(pod: R.notEligible, sid: "16MOMSPC399999997", type: "Standard", code: "METER_NOT_ELIGIBLE", esito: "In errore", attempts: 1),
            // 10 beats 14
            Expected(pod: R.bankPOD(11), sid: "16MOMSPC399999996", type: "Prosumer", code: "DEVICE_NOT_FOUND", esito: "In errore", attempts: 1),
            // 11 beats 12 (the POD is associated by the seed)
            Expected(pod: R.ok2, sid: R.voltaic2, type: "Standard", code: "DEVICE_NOT_OWNED", esito: "In errore", attempts: 1),
            // 12 beats 13 and 14
            Expected(pod: R.ok1, sid: R.smartInfo(1), type: "Prosumer", code: "POD_ALREADY_ASSOCIATED", esito: "In errore", attempts: 1),
            // 13 beats 14
            Expected(pod: R.bankPOD(12), sid: R.mome(9), type: "Prosumer", code: "DEVICE_ALREADY_ASSOCIATED", esito: "In errore", attempts: 1),
            // 14 beats 15: not probed, not retried
            Expected(pod: R.unreachableNoProduction, sid: R.bankSID(13), type: "Prosumer", code: "NO_PRODUCTION_POD", esito: "In errore", attempts: 1),
        ]
        let request = try f.submit("order.csv", rows: expected.map(\.row))
        // Nothing waits: no row reached check 15.
        #expect(request.status == .done)
        #expect(request.outcomeLabel == "Lavorato con errori")
        try check(f, request, expected)
        #expect(try f.associationCount() == 4)
    }

    @Test func prosumerTakesTheFirstProductionPODAlphabetically() throws {
        let f = try EngineFixture()
        let request = try f.submit("prosumer.csv", rows: [
            "\(R.prosumer);\(R.smartInfo(5));prosumer",
            "\(R.gesis);\(R.mome(5));STANDARD",
        ])
        #expect(request.status == .done)
        #expect(request.outcomeLabel == "Lavorato")
        // Listed out of order in pods.csv: the choice is the sort, not the file order.
        #expect(R.productions.first != R.firstProduction)
        #expect(R.productions.sorted().first == R.firstProduction)

        let rows = try f.esito(request).rows
        #expect(rows.map { $0["POD PRODUZIONE"] } == [R.firstProduction, ""])
        #expect(rows.map { $0["TIPO CONFIGURAZIONE"] } == ["Prosumer", "Standard"])
        #expect(rows.map { $0["GESIS"] } == ["", "SI"])
        #expect(rows.map { $0["TIPO DISPOSITIVO"] } == ["Smart Info", "MOME"])
        #expect(rows.map { $0["NID"] } == [TestRegistry.nid(of: R.smartInfo(5)), TestRegistry.nid(of: R.mome(5))])
        #expect(rows.map { $0["MATRICOLA"] } == [R.line(pod: R.prosumer)?.matricola, R.gesisMatricola])
        #expect(rows.map { $0["SYSTEM INTEGRATOR"] } == ["ACME Impianti S.r.l.", "ACME Impianti S.r.l."])

        let scripts = try f.scripts(request)
        #expect(scripts.keys.sorted() == ["\(R.mome(5))_\(R.gesis).scp", "\(R.smartInfo(5))_\(R.prosumer).scp"])
        let prosumer = try #require(scripts["\(R.smartInfo(5))_\(R.prosumer).scp"])
        #expect(prosumer.productionPOD == R.firstProduction)
        #expect(prosumer.configurationType == .prosumer)
        #expect(prosumer.configurationModel == "0x02")
        #expect(prosumer.requestID == request.id.description)
        #expect(prosumer.sid == R.smartInfo(5))
        #expect(prosumer.nid == TestRegistry.nid(of: R.smartInfo(5)))
        #expect(prosumer.deviceType == "Smart Info")
        #expect(prosumer.eneltel == TestRegistry.eneltel(of: R.prosumer))
        #expect(prosumer.gesis == false)
        let standard = try #require(scripts["\(R.mome(5))_\(R.gesis).scp"])
        #expect(standard.productionPOD == nil)
        #expect(standard.configurationModel == "0x01")
        #expect(standard.gesis == true)
        #expect(standard.matricola == R.gesisMatricola)

        #expect(try f.registry.association(pod: R.prosumer)?.productionPOD == R.firstProduction)
        #expect(try f.registry.association(pod: R.gesis)?.productionPOD == nil)
    }

    @Test func aHundredRowsAreAcceptedAHundredAndOneRejected() throws {
        let f = try EngineFixture()
        let hundred = (0..<100).map { "\(R.bankPOD($0));\(R.bankSID($0));Standard" }
        let ok = try f.submit("cento.csv", rows: hundred)
        #expect(ok.status == .done)
        #expect(ok.rowsTotal == 100)
        #expect(ok.rowsFailed == 0)
        #expect(try f.esito(ok).rows.filter { $0["CODICE"] == "OK" }.count == 100)
        #expect(try f.scripts(ok).count == 100)

        let hundredAndOne = (100..<201).map { "\(R.bankPOD($0));\(R.bankSID($0));Standard" }
        let rejected = try f.submit("centouno.csv", rows: hundredAndOne)
        #expect(rejected.status == .rejected)
        #expect(try f.store.rows(of: rejected.id).isEmpty)
        let stato = try f.stato(rejected)
        #expect(stato["status"] as? String == "rejected")
        let reason = stato["reason"] as? String ?? ""
        #expect(reason.contains("101") && reason.contains("100"), "\(reason)")
        #expect((stato["outcome"] as? String)?.hasPrefix("Rifiutato: ") == true)
        // Nothing of the rejected file was associated.
        #expect(try f.associationCount() == 100)
    }
}
