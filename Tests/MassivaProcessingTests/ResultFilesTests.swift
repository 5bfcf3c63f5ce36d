import Foundation
import Testing
import MassivaCSV
import MassivaDomain
import MassivaSpool
import MassivaResults
import MassivaStore
import MassivaSystem
import MassivaTestSupport
@testable import MassivaProcessing

/// The files an SI downloads: their columns, keys, order and dialect, and no temporary files.
@Suite struct ResultFilesTests {
    typealias R = TestRegistry

    /// The brief's column list, verbatim.
    static let esitoColumns = "POD;NID;SID;TIPO DISPOSITIVO;TIPO CONFIGURAZIONE;POD PRODUZIONE;MATRICOLA;GESIS;SYSTEM INTEGRATOR;CONFIGURATORE;DATA ELABORAZIONE;ESITO;CODICE;DESCRIZIONE;TENTATIVI"
    static let listColumns = "IDENTIFICATIVO DELLA RICHIESTA;NOME FILE;DATA SOTTOMISSIONE;DATA COMPLETAMENTO;AVANZAMENTO ELABORAZIONE;NUMERO DI ERRORI;ESITO DELLA RICHIESTA"
    static let statoKeys: Set<String> = ["id", "tenant", "file", "status", "outcome", "reason", "rows_total", "rows_processed",
                                         "rows_failed", "submitted_at", "completed_at"]

    /// ISO 8601 with an offset: 2024-03-05T10:15:30+01:00.
    static func isISO8601WithOffset(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 25 else { return false }
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24]
        return digits.allSatisfy { (0x30...0x39).contains(b[$0]) } && b[4] == 0x2D && b[7] == 0x2D && b[10] == 0x54
            && b[13] == 0x3A && b[16] == 0x3A && (b[19] == 0x2B || b[19] == 0x2D) && b[22] == 0x3A
    }

    @Test func esitoCsvHasTheBriefsColumnsInExcelDialect() throws {
        let f = try EngineFixture()
        let r = try f.submit("columns.csv", rows: ["\(R.gesis);\(R.mome(1));Standard", "IT001E99999999;\(R.mome(2));Standard",
                                                    "bad;\(R.mome(3));Standard"])
        let esito = try f.esito(r)
        // UTF-8 BOM, `;`, CRLF line ends, the header exactly.
        #expect(Array(esito.bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: esito.bytes.dropFirst(3), as: UTF8.self)
        #expect(text.hasPrefix(Self.esitoColumns + "\r\n"))
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.count == 1 + 3 + 1)  // header, three rows, the empty string after the last CRLF
        #expect(lines.last == "")
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(esito.header.joined(separator: ";") == Self.esitoColumns)
        let ok = esito.rows[0]
        #expect(ok["POD"] == R.gesis)
        #expect(ok["NID"] == TestRegistry.nid(of: R.mome(1)))
        #expect(ok["SID"] == R.mome(1))
        #expect(ok["TIPO DISPOSITIVO"] == "MOME")
        #expect(ok["MATRICOLA"] == R.gesisMatricola)
        #expect(ok["GESIS"] == "SI")
        #expect(ok["SYSTEM INTEGRATOR"] == "ACME Impianti S.r.l.")
        #expect(ok["CONFIGURATORE"]?.isEmpty == false)
        #expect(Self.isISO8601WithOffset(ok["DATA ELABORAZIONE"] ?? ""), "\(ok["DATA ELABORAZIONE"] ?? "")")
        // Every line has every column.
        let document = try CSVReader.read(esito.bytes)
        #expect(document.records.allSatisfy { $0.cells.count == 15 })
    }

    @Test func statoJsonHasTheBriefsKeys() throws {
        let f = try EngineFixture()
        let r = try f.submit("stato.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "IT001E99999999;\(R.mome(2));Standard"])
        let stato = try f.stato(r)
        #expect(Self.statoKeys.isSubset(of: Set(stato.keys)), "missing: \(Self.statoKeys.subtracting(stato.keys))")
        #expect(stato["id"] as? String == r.id.description)
        #expect(stato["tenant"] as? String == "acme")
        #expect(stato["file"] as? String == "stato.csv")
        #expect(stato["status"] as? String == "done")
        #expect(stato["outcome"] as? String == "Lavorato con errori")
        #expect(stato["reason"] is NSNull)
        #expect(stato["rows_total"] as? Int == 2)
        #expect(stato["rows_processed"] as? Int == 2)
        #expect(stato["rows_failed"] as? Int == 1)
        #expect(Self.isISO8601WithOffset(stato["submitted_at"] as? String ?? ""))
        #expect(Self.isISO8601WithOffset(stato["completed_at"] as? String ?? ""))
        #expect(r.id.description.hasPrefix("MOME-") && r.id.description.count == 14)
    }

    @Test func richiesteCsvListsNewestFirst() throws {
        let f = try EngineFixture()
        let first = try f.submit("primo.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        f.clock.advance(by: 60)
        let second = try f.submit("secondo.csv", rows: ["\(R.ok2);\(R.mome(2));Standard", "x;y;z"])
        f.clock.advance(by: 60)
        let third = try f.submit("terzo.csv", rows: [])  // header only: rejected
        let other = try f.submit("altro.csv", rows: ["\(R.ok4);\(R.voltaic1);Standard"], tenant: "voltaic")

        let bytes = try f.read(f.layout.results("acme") + "/richieste.csv")
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: bytes.dropFirst(3), as: UTF8.self).hasPrefix(Self.listColumns + "\r\n"))
        let list = try f.requestList()
        #expect(list.count == 4)
        #expect(list.dropFirst().map { $0[0] } == [third.id, second.id, first.id].map(\.description))
        #expect(list.dropFirst().map { $0[1] } == ["terzo.csv", "secondo.csv", "primo.csv"])
        #expect(list[2][4] == "2/2")
        #expect(list[2][5] == "1")
        #expect(list[2][6] == "Lavorato con errori")
        #expect(list[3][6] == "Lavorato")
        #expect(list[1][6].hasPrefix("Rifiutato: "))
        #expect(list.dropFirst().allSatisfy { Self.isISO8601WithOffset($0[2]) })
        // Another tenant's requests are not in acme's list, and vice versa.
        let voltaic = try f.requestList(tenant: "voltaic")
        #expect(voltaic.dropFirst().map { $0[0] } == [other.id.description])
    }

    @Test func noTemporaryFilesAreLeftInResults() throws {
        let f = try EngineFixture()
        _ = try f.submit("a.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "\(R.unreachable);\(R.mome(2));Standard"])
        _ = try f.submit("b.csv", rows: [])
        f.clock.advance(by: 10_000)
        try f.runUntilIdle()
        let allowed: Set<String> = ["richiesta.csv", "esito.csv", "scp.zip", "stato.json", "richieste.csv", "associazioni.csv"]
        for tenant in ["acme", "voltaic"] {
            for path in f.walk(f.layout.results(tenant)) {
                let name = path.split(separator: "/").last.map(String.init) ?? path
                let isRequestFolder = !path.contains("/") && name.hasPrefix("MOME-")
                #expect(isRequestFolder || allowed.contains(name), "unexpected entry in results/: \(path)")
            }
        }
        #expect(f.list(f.layout.temporaryDirectory).isEmpty)
    }
}

@Suite struct RecoveryTests {
    @Test func temporaryFilesOfDeadWritersAreRemovedOnRecoveryOthersKept() throws {
        let f = try EngineFixture()
        try FileSystem.makeDirectory(f.layout.temporaryDirectory, intermediate: true)
        // A pid that cannot be running (above the kernel's maximum), and init's, which is.
        let dead = f.layout.temporaryDirectory + "/.tmp.4194305.7.abc"
        let live = f.layout.temporaryDirectory + "/.tmp.1.7.abc"
        let unrelated = f.layout.temporaryDirectory + "/notes.txt"
        for path in [dead, live, unrelated] { try AtomicFile.write([1], to: path, temporaryDirectory: f.layout.temporaryDirectory) }
        try f.engine.recover()
        #expect(!FileSystem.exists(dead))
        #expect(FileSystem.exists(live))
        #expect(FileSystem.exists(unrelated))
        #expect(f.logged.events("temporary_files_removed").count == 1)
    }
}
