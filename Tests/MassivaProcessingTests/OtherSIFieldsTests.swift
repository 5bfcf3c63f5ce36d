import Foundation
import Testing
import MassivaStore
import MassivaDomain
import MassivaRegistry
import MassivaSpool
import MassivaTestSupport
@testable import MassivaProcessing

/// The brief: "Fields of a device or POD that belongs to another SI stay empty in this SI's
/// rows." Two tenants, acme and voltaic; every assertion is on the exact cells of esito.csv.
@Suite struct OtherSIFieldsTests {
    typealias R = TestRegistry

    /// The columns these tests compare: all but DATA ELABORAZIONE (the clock) and
    /// CONFIGURATORE (the uploading user, not what these tests are about).
    static let columns = ["POD", "NID", "SID", "TIPO DISPOSITIVO", "TIPO CONFIGURAZIONE", "POD PRODUZIONE", "MATRICOLA", "GESIS",
                          "SYSTEM INTEGRATOR", "ESITO", "CODICE", "DESCRIZIONE", "TENTATIVI"]
    static let acmeName = "ACME Impianti S.r.l."

    /// One expected esito.csv line of acme, in `columns` order.
    static func line(_ pod: String, nid: String, _ sid: String, type: String, config: String = "Standard", production: String = "",
                     matricola: String, gesis: String = "", code: RowCode, attempts: Int = 1) -> [String] {
        [pod, nid, sid, type, config, production, matricola, gesis, acmeName, code.esito, code.rawValue, code.description, String(attempts)]
    }

    func cells(_ f: EngineFixture, _ r: RequestRecord) throws -> [[String]] {
        try f.esito(r).rows.map { row in Self.columns.map { row[$0] ?? "<missing \($0)>" } }
    }

    /// Everything voltaic's associations would reveal: its devices' NIDs and the data of the
    /// PODs it holds (matricole, the production POD it bound).
    func voltaicSecrets() -> [String] {
        [R.nid(of: R.voltaic1), R.nid(of: R.voltaic2), R.gesisMatricola, R.line(pod: R.prosumer)!.matricola,
         R.line(pod: R.firstProduction)!.matricola, R.eneltel(of: R.gesis), R.eneltel(of: R.prosumer)]
    }

    @Test func anotherSIsDevicesAndAssociationsLeaveTheirFieldsEmpty() throws {
        let f = try EngineFixture()
        // voltaic holds the GESIS POD, and the prosumer POD with its first production POD.
        let theirs = try f.submit("voltaic.csv", rows: [
            "\(R.gesis);\(R.voltaic1);Standard",
            "\(R.prosumer);\(R.voltaic2);Prosumer",
        ], tenant: "voltaic")
        #expect(try f.esito(theirs).rows.map { $0["CODICE"] } == ["OK", "OK"])
        // acme holds ok2.
        let own = try f.submit("acme-seed.csv", rows: ["\(R.ok2);\(R.smartInfo(1));Standard"])
        #expect(try f.esito(own).rows.map { $0["CODICE"] } == ["OK"])

        let unbound = R.productions[0]   // a production POD of the prosumer POD that voltaic did not bind
        let request = try f.submit("acme.csv", rows: [
            "\(R.gesis);\(R.mome(1));Standard",
            "\(R.prosumer);\(R.mome(2));Prosumer",
            "\(R.firstProduction);\(R.mome(3));Standard",
            "\(unbound);\(R.mome(4));Standard",
            "\(R.ok1);\(R.voltaic1);Standard",
            "IT001E99999999;\(R.voltaic2);Standard",
            "\(R.ok2);\(R.mome(5));Standard",
            "\(R.ok4);\(R.mome(6));Standard",
        ])
        let mome = { (i: Int) in R.nid(of: R.mome(i)) }
        let matricola = { (pod: String) in R.line(pod: pod)!.matricola }
        #expect(try cells(f, request) == [
            // POD held by voltaic: acme's own device shows, nothing of the POD or voltaic's association.
            Self.line(R.gesis, nid: mome(1), R.mome(1), type: "MOME", matricola: "", code: .podAlreadyAssociated),
            // Prosumer POD held by voltaic: no production POD (neither voltaic's nor a choice), no matricola.
            Self.line(R.prosumer, nid: mome(2), R.mome(2), type: "MOME", config: "Prosumer", matricola: "", code: .podAlreadyAssociated),
            // A production POD bound in voltaic's association belongs to voltaic too ...
            Self.line(R.firstProduction, nid: mome(3), R.mome(3), type: "MOME", matricola: "", code: .podIsProduction),
            // ... one nobody bound does not.
            Self.line(unbound, nid: mome(4), R.mome(4), type: "MOME", matricola: matricola(unbound), code: .podIsProduction),
            // voltaic's device: no NID, no device type; the POD is nobody's, its data shows.
            Self.line(R.ok1, nid: "", R.voltaic1, type: "", matricola: matricola(R.ok1), code: .deviceNotOwned),
            // voltaic's device behind an earlier failure: still nothing of it.
            Self.line("IT001E99999999", nid: "", R.voltaic2, type: "", matricola: "", code: .podNotFound),
            // acme's own association: acme's POD, its data shows.
            Self.line(R.ok2, nid: mome(5), R.mome(5), type: "MOME", matricola: matricola(R.ok2), code: .podAlreadyAssociated),
            Self.line(R.ok4, nid: mome(6), R.mome(6), type: "MOME", matricola: matricola(R.ok4), code: .ok),
        ])
        let text = String(decoding: try f.esito(request).bytes, as: UTF8.self)
        for secret in voltaicSecrets() { #expect(!text.contains(secret), "\(secret) in acme's esito.csv") }
        // The audit trail acme can read says no more.
        let audit = try AuditTrail(database: f.database).entries().filter { $0.tenant == "acme" }
        for entry in audit {
            for secret in voltaicSecrets() { #expect(!"\(entry)".contains(secret), "\(secret) in acme's audit entry") }
        }
    }

    @Test func aDeviceHeldInAnotherSIsAssociationShowsNothingOfIt() throws {
        let f = try EngineFixture()
        let theirs = try f.submit("voltaic.csv", rows: ["\(R.gesis);\(R.voltaic1);Standard"], tenant: "voltaic")
        #expect(try f.esito(theirs).rows.map { $0["CODICE"] } == ["OK"])
        // The device is sold on to acme: the registry is re-imported, the association stays.
        let path = f.root + "/registry/devices.csv"
        let devices = try String(contentsOfFile: path, encoding: .utf8)
        let moved = devices.replacingOccurrences(of: "\(R.voltaic1),\(R.nid(of: R.voltaic1)),Smart Info,voltaic",
                                                 with: "\(R.voltaic1),\(R.nid(of: R.voltaic1)),Smart Info,acme")
        #expect(moved != devices)
        try moved.write(toFile: path, atomically: false, encoding: .utf8)
        try RegistryImporter.importDirectory(f.root + "/registry", into: f.registry)
        #expect(try f.registry.device(R.voltaic1)?.owner == "acme")
        #expect(try f.registry.association(sid: R.voltaic1)?.tenant == "voltaic")

        let request = try f.submit("acme.csv", rows: ["\(R.ok5);\(R.voltaic1);Standard"])
        // acme's row: its own POD's data; nothing of the association holding the device (its
        // POD, that POD's meter), nor the device's data while voltaic holds it.
        #expect(try cells(f, request) == [
            Self.line(R.ok5, nid: "", R.voltaic1, type: "", matricola: R.line(pod: R.ok5)!.matricola, code: .deviceAlreadyAssociated),
        ])
        let text = String(decoding: try f.esito(request).bytes, as: UTF8.self)
        for secret in [R.gesis, R.gesisMatricola, R.nid(of: R.voltaic1)] { #expect(!text.contains(secret), "\(secret)") }
    }

    @Test func aRetryForgetsWhatTheEarlierAttemptShowed() throws {
        let f = try EngineFixture()
        // flaky:1: the first attempt fills the row's fields and waits.
        let waiting = try f.submit("acme-2.csv", rows: ["\(R.flaky1);\(R.mome(3));Standard"])
        #expect(try cells(f, waiting) == [
            Self.line(R.flaky1, nid: R.nid(of: R.mome(3)), R.mome(3), type: "MOME", matricola: R.line(pod: R.flaky1)!.matricola,
                      code: .meterUnreachable),
        ])
        // Meanwhile voltaic gets the POD (through another channel: the registry is shared).
        try f.registry.createAssociation(Association(
            pod: R.flaky1, sid: R.voltaic1, nid: R.nid(of: R.voltaic1), deviceType: "Smart Info", configurationType: .standard,
            productionPOD: nil, tenant: "voltaic", configurator: "luigi", request: nil, createdAt: f.clock.now))
        f.clock.advance(by: f.configuration.minimalBackoffTime)
        try f.runUntilIdle()
        // The retry refuses the row, and the matricola the first attempt showed is gone.
        #expect(try cells(f, try f.request(waiting.id)) == [
            Self.line(R.flaky1, nid: R.nid(of: R.mome(3)), R.mome(3), type: "MOME", matricola: "", code: .podAlreadyAssociated,
                      attempts: 2),
        ])
    }

    @Test func aRowFoundDoneAfterACrashShowsTheProductionPODItBound() throws {
        let f = try EngineFixture()
        // The association this row's request made before a crash, with a production POD that
        // is no longer the first alphabetically (the registry may have changed since).
        let request = "MOME-000000099", bound = "IT001E00000013"
        #expect(bound != R.firstProduction)
        try f.registry.createAssociation(Association(
            pod: R.prosumer, sid: R.smartInfo(5), nid: R.nid(of: R.smartInfo(5)), deviceType: "Smart Info",
            configurationType: .prosumer, productionPOD: bound, tenant: "acme", configurator: "mario", request: request,
            createdAt: f.clock.now))
        let processor = RowProcessor(registry: f.registry, policy: ProcessingPolicy(
            maxRows: 100, maxAttempts: 3, backoff: Backoff(minimal: 1, maximal: 1), jitter: { 0 }))
        var record = RowRecord(position: 0, line: 2, pod: R.prosumer, sid: R.smartInfo(5), configuration: "Prosumer",
                               state: .error, code: .invalidRow)
        try processor.attempt(ValidRow(pod: R.prosumer, sid: R.smartInfo(5), configurationType: .prosumer), record: &record,
                              context: AssociationContext(tenant: "acme", configurator: "mario", request: request), now: f.clock.now)
        #expect(record.code == .ok)
        #expect(record.productionPOD == bound)
        #expect(record.nid == R.nid(of: R.smartInfo(5)) && record.matricola == R.line(pod: R.prosumer)!.matricola)
        #expect(try f.associationCount() == 1)
    }
}
