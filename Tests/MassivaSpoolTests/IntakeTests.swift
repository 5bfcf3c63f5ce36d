import Foundation
import Glibc
import Testing
import MassivaDomain
import MassivaSpool
import MassivaResults
import MassivaStore
import MassivaSystem
import MassivaTestSupport
@testable import MassivaProcessing

/// Taking files from incoming/: rejections, cancellation, crash recovery, CSV dialects.
@Suite struct IntakeTests {
    typealias R = TestRegistry

    func requests(_ f: EngineFixture) throws -> [String: RequestRecord] {
        Dictionary(try f.store.requests(tenant: nil).map { ($0.fileName, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// A recorded upload knows its data rows before its pass, so a queued request shows `0/N`
    /// (the manual's Figura 12); a file its pass will reject counts none.
    @Test func aRecordedUploadCountsItsDataRows() throws {
        let f = try EngineFixture { $0.maxRows = 5 }
        try f.drop("three.csv", text: EngineFixture.bulk((0..<3).map { "\(R.bankPOD($0));\(R.bankSID($0));Standard" }) + "\r\n\r\n")
        try f.drop("six.csv", text: EngineFixture.bulk((10..<16).map { "\(R.bankPOD($0));\(R.bankSID($0));Standard" }))
        try f.drop("binary.csv", [0x50, 0x00, 0x44])
        let scan = try f.engine.intake.scan(tenant: try #require(try f.store.tenant("acme")), now: f.clock.now + 60)
        #expect(scan.recorded.count == 3)
        let byName = try requests(f)
        #expect(byName["three.csv"]?.status == .queued && byName["three.csv"]?.rowsTotal == 3)
        #expect(byName["six.csv"]?.rowsTotal == 0 && byName["binary.csv"]?.rowsTotal == 0)
        try f.runUntilIdle()
        #expect(try requests(f)["three.csv"].map { "\($0.rowsProcessed)/\($0.rowsTotal)" } == "3/3")
    }

    // MARK: File-level rejections

    @Test func everyUnusableFileIsRejectedWithAnItalianReasonAndTheOthersGoOn() throws {
        let f = try EngineFixture { $0.maxFileSize = 8192 }
        let incoming = f.layout.incoming("acme")
        let header = "POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n"
        try f.drop("empty.csv", [])
        try f.drop("header-only.csv", text: header)
        try f.drop("blank-lines-only.csv", text: "\r\n\r\n  \r\n")
        try f.drop("too-many.csv", text: EngineFixture.bulk((0..<101).map { "\(R.bankPOD($0));\(R.bankSID($0));Standard" }))
        let withNUL = Array(EngineFixture.bulk(["\(R.bankPOD(200));\(R.bankSID(200));Standard"]).utf8) + [0x00, 0x41, 0x0D, 0x0A]
        try f.drop("nul.csv", withNUL)
        let notUTF8AfterBOM: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("\(R.bankPOD(201));\(R.bankSID(201));Standard\r\n".utf8) + [0xC3, 0x28]
        try f.drop("bad-encoding.csv", notUTF8AfterBOM)
        let big = Array(EngineFixture.bulk(["\(R.bankPOD(202));\(R.bankSID(202));Standard"]).utf8) + Array(repeating: 0x20, count: 9000)
        try f.drop("big.csv", big)
        // A symlink to a good file outside the spool, a FIFO, a directory.
        let target = f.root + "/target.csv"
        let targetBytes = Array(EngineFixture.bulk(["\(R.bankPOD(203));\(R.bankSID(203));Standard"]).utf8)
        try Data(targetBytes).write(to: URL(fileURLWithPath: target))
        #expect(symlink(target, incoming + "/link.csv") == 0)
        #expect(mkfifo(incoming + "/fifo.csv", 0o644) == 0)
        try FileSystem.makeDirectory(incoming + "/folder.csv")
        try Data("x".utf8).write(to: URL(fileURLWithPath: incoming + "/folder.csv/inside.csv"))
        // And one good file, processed in the same run.
        let good = EngineFixture.bulk(["\(R.bankPOD(204));\(R.bankSID(204));Standard"])
        try f.drop("good.csv", text: good)

        try f.runUntilIdle()

        let byName = try requests(f)
        let expectations: [(String, String, Bool)] = [
            // file, a word of the reason, whether richiesta.csv exists (the file was read)
            ("empty.csv", "vuoto", true),
            ("header-only.csv", "non contiene righe di dati", true),
            ("blank-lines-only.csv", "non contiene righe di dati", true),
            ("too-many.csv", "101", true),
            ("nul.csv", "NUL", true),
            ("bad-encoding.csv", "codifica", true),
            ("big.csv", "dimensione massima", false),
            ("link.csv", "collegamento simbolico", false),
            ("fifo.csv", "FIFO", false),
            ("folder.csv", "directory", false),
        ]
        #expect(byName.count == expectations.count + 1)
        for (name, word, hasCopy) in expectations {
            guard let r = byName[name] else { Issue.record("no request for \(name)"); continue }
            #expect(r.status == .rejected, "\(name)")
            let stato = try f.stato(r)
            #expect(stato["status"] as? String == "rejected", "\(name)")
            #expect(stato["file"] as? String == name)
            let reason = stato["reason"] as? String ?? ""
            #expect(reason.contains(word), "\(name): \(reason)")
            #expect(stato["outcome"] as? String == "Rifiutato: " + reason, "\(name)")
            #expect(!(stato["completed_at"] is NSNull), "\(name)")
            #expect(stato["rows_total"] as? Int == 0, "\(name)")
            let copy = f.resultFolder(r) + "/richiesta.csv"
            #expect(FileSystem.exists(copy) == hasCopy, "\(name)")
            #expect(!FileSystem.exists(f.resultFolder(r) + "/scp.zip"), "\(name)")
        }
        // The read ones are kept byte for byte; the refused ones were never read, and are kept aside.
        if let r = byName["nul.csv"] { #expect(try f.read(f.resultFolder(r) + "/richiesta.csv") == withNUL) }
        #expect(try f.store.content(of: byName["link.csv"]!.id) == nil)
        #expect(try f.store.content(of: byName["big.csv"]!.id) == nil)
        let refused = f.list(f.layout.refusedDirectory("acme"))
        #expect(refused.count == 4, "\(refused)")
        for name in ["link.csv", "fifo.csv", "folder.csv", "big.csv"] {
            #expect(refused.contains { $0.hasSuffix("-" + name) }, "\(name) not kept aside: \(refused)")
        }
        if let link = refused.first(where: { $0.hasSuffix("-link.csv") }) {
            #expect(try FileStatus.ofLink(f.layout.refusedDirectory("acme") + "/" + link).kind == .symlink)
        }
        #expect(try f.read(target) == targetBytes)  // the link's target is untouched
        #expect(f.list(incoming).isEmpty)
        #expect(f.list(f.layout.claimDirectory("acme")).isEmpty)

        // The daemon went on.
        let ok = try #require(byName["good.csv"])
        #expect(ok.status == .done)
        #expect(ok.outcomeLabel == "Lavorato")
        #expect(try f.read(f.resultFolder(ok) + "/richiesta.csv") == Array(good.utf8))
        #expect(f.logged.events("rejected").count == expectations.count)
    }

    @Test func aDisabledTenantsFilesAreRejectedNotLost() throws {
        let f = try EngineFixture()
        #expect(try f.store.setTenant("acme", enabled: false))
        let text = EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"])
        try f.drop("disabled.csv", text: text)
        try f.runUntilIdle()
        let r = try #require(try f.store.requests(tenant: "acme").first)
        #expect(r.status == .rejected)
        let stato = try f.stato(r)
        #expect(stato["status"] as? String == "rejected")
        #expect((stato["reason"] as? String ?? "").contains("disabilitata"))
        #expect(try f.read(f.resultFolder(r) + "/richiesta.csv") == Array(text.utf8))
        #expect(try f.associationCount() == 0)
        #expect(f.list(f.layout.incoming("acme")).isEmpty)
    }

    @Test func aTenantDisabledWhileItsRequestIsQueuedGetsItRejected() throws {
        let f = try EngineFixture()
        try f.drop("queued.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        let acme = try #require(try f.store.tenant("acme"))
        let scan = try f.engine.intake.scan(tenant: acme, now: f.clock.now)
        #expect(scan.recorded.count == 1)
        #expect(try f.store.setTenant("acme", enabled: false))
        try f.runUntilIdle()
        let r = try f.request(scan.recorded[0])
        #expect(r.status == .rejected)
        #expect((r.reason ?? "").contains("disabilitata"))
        #expect(try f.associationCount() == 0)
    }

    // MARK: Cancellation

    @Test func cancelWorksOnlyWhileQueuedAndTheDropFileIsConsumedEitherWay() throws {
        let f = try EngineFixture()
        let acme = try #require(try f.store.tenant("acme"))
        // A request recorded but not processed yet (a backlog).
        try f.drop("to-cancel.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        let recorded = try f.engine.intake.scan(tenant: acme, now: f.clock.now).recorded
        let queued = try f.request(try #require(recorded.first))
        #expect(queued.status == .queued)
        // Another tenant cannot cancel it.
        try f.drop("\(queued.id).cancel", text: "", tenant: "voltaic")
        try f.runUntilIdle()
        #expect(f.list(f.layout.incoming("voltaic")).isEmpty)
        // Processed by that run: too late now. So make a new queued one for the real cancel.
        let processed = try f.request(queued.id)
        #expect(processed.status == .done)

        try f.drop("to-cancel-2.csv", text: EngineFixture.bulk(["\(R.ok2);\(R.mome(2));Standard"]))
        let second = try #require(try f.engine.intake.scan(tenant: acme, now: f.clock.now).recorded.first)
        try f.drop("\(second).cancel", text: "per favore annullare")
        try f.runUntilIdle()
        let cancelled = try f.request(second)
        #expect(cancelled.status == .cancelled)
        #expect(try f.store.rows(of: second).isEmpty)
        #expect(try f.registry.association(pod: R.ok2) == nil)
        let stato = try f.stato(cancelled)
        #expect(stato["status"] as? String == "cancelled")
        #expect(stato["outcome"] as? String == "Annullato")
        #expect((stato["note"] as? String)?.isEmpty == false)
        #expect(f.list(f.layout.incoming("acme")).isEmpty)  // consumed

        // Too late: the first request is done. The drop file is consumed, the answer is in the note.
        try f.drop("\(queued.id).cancel", text: "")
        try f.runUntilIdle()
        let still = try f.request(queued.id)
        #expect(still.status == .done)
        let note = try f.stato(still)["note"] as? String ?? ""
        #expect(note.contains("non eseguito"), "\(note)")
        #expect(f.list(f.layout.incoming("acme")).isEmpty)

        // A cancel naming no request is consumed too, and answered (issue 22: each with a
        // rejected request of its own, as voltaic's cancel of acme's request above); the
        // requests it names change in nothing.
        try f.drop("MOME-000000999.cancel", text: "")
        try f.drop("garbage.cancel", text: "")
        try f.runUntilIdle()
        #expect(f.list(f.layout.incoming("acme")).isEmpty)
        #expect(try f.store.requests(tenant: "acme").filter { !$0.fileName.hasSuffix(".cancel") }.count == 2)
        #expect(try f.store.requests(tenant: "acme").filter { $0.fileName.hasSuffix(".cancel") }.map(\.status) == [.rejected, .rejected])
        #expect(try f.store.requests(tenant: "voltaic").map(\.fileName) == ["\(queued.id).cancel"])
        #expect(f.logged.events("cancelled").count == 1)
    }

    // MARK: Never lost, never read twice

    @Test func aFileIsTakenOnceAndNeverReadTwice() throws {
        let f = try EngineFixture()
        try f.drop("once.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        try f.runUntilIdle()
        try f.runUntilIdle()
        _ = try f.engine.pass()
        try f.engine.recover()
        #expect(try f.store.requests(tenant: nil).count == 1)
        #expect(f.list(f.layout.incoming("acme")).isEmpty)
        #expect(f.list(f.layout.claimDirectory("acme")).isEmpty)
        #expect(f.logged.events("accepted").count == 1)
        // A new upload with the same name is a new request.
        try f.drop("once.csv", text: EngineFixture.bulk(["\(R.ok2);\(R.mome(2));Standard"]))
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: nil).count == 2)
    }

    @Test func aClaimLeftByACrashIsRecordedExactlyOnce() throws {
        let f = try EngineFixture()
        let claimDirectory = f.layout.claimDirectory("acme")
        let text = EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"])
        // As `claim` names it: <time+sequence hex>-<inode hex>-<original name>.
        try Data(text.utf8).write(to: URL(fileURLWithPath: claimDirectory + "/18c2f00a1-3e8-crashed-file.csv"))
        try f.engine.recover()
        try f.engine.recover()
        let all = try f.store.requests(tenant: nil)
        #expect(all.count == 1)
        #expect(all.first?.fileName == "crashed-file.csv")
        #expect(f.list(claimDirectory).isEmpty)
        try f.runUntilIdle()
        let r = try f.request(try #require(all.first).id)
        #expect(r.status == .done)
        #expect(try f.read(f.resultFolder(r) + "/richiesta.csv") == Array(text.utf8))
        #expect(try f.store.requests(tenant: nil).count == 1)
    }

    /// After a crash between claim and record, a shortened claim still gets its whole name (from
    /// its sidecar), a claim of a name that was not UTF-8 is still rejected for its name, and a
    /// sidecar whose claim is gone is removed.
    @Test func claimsLeftByACrashKeepTheirWholeNameAndTheirNameRejection() throws {
        let f = try EngineFixture()
        let claimDirectory = f.layout.claimDirectory("acme")
        let text = EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"])
        let whole = String(repeating: "n", count: 251) + ".csv"
        let prefix = "18c2f00a1-3e8-"
        let shortened = prefix + String(whole.prefix(250 - prefix.utf8.count))
        try Data(text.utf8).write(to: URL(fileURLWithPath: claimDirectory + "/" + shortened))
        try Data(whole.utf8).write(to: URL(fileURLWithPath: claimDirectory + "/." + prefix + "name"))
        try Data(text.utf8).write(to: URL(fileURLWithPath: claimDirectory + "/18c2f00a2-3e9n-caf%E9.csv"))
        try Data("orphan".utf8).write(to: URL(fileURLWithPath: claimDirectory + "/.18c2f00a3-3ea-name"))
        try f.engine.recover()
        let all = try f.store.requests(tenant: nil).sorted { $0.id.description < $1.id.description }
        #expect(all.map(\.fileName) == [whole, "caf%E9.csv"])
        #expect(all.map(\.status) == [.queued, .rejected])
        #expect(all.last?.reason?.contains("non UTF-8") == true)
        #expect(f.list(claimDirectory).isEmpty)
    }

    /// A claim a failed pass left behind (database busy, disk full) is recorded by the next
    /// ordinary pass, not only at the next start-up.
    @Test func aClaimLeftByAFailedPassIsRecordedByTheNextPass() throws {
        let f = try EngineFixture()
        let claimDirectory = f.layout.claimDirectory("acme")
        let text = EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"])
        try Data(text.utf8).write(to: URL(fileURLWithPath: claimDirectory + "/18c2f00a1-3e8-left-behind.csv"))
        _ = try f.engine.pass()
        let all = try f.store.requests(tenant: nil)
        #expect(all.map(\.fileName) == ["left-behind.csv"])
        #expect(f.list(claimDirectory).isEmpty)
        _ = try f.engine.pass()
        #expect(try f.store.requests(tenant: nil).count == 1)
    }

    /// An entry recorded as refused unread, left on disk by a crash, goes aside, not away.
    @Test func aRefusedClaimLeftOnDiskIsMovedAsideNotDeleted() throws {
        let f = try EngineFixture()
        let claimName = "18c2f00b3-3ea-too-big.csv"
        _ = try f.store.createRequest(tenant: "acme", fileName: "too-big.csv", configurator: "si", claimName: claimName,
                                      content: nil, rejection: .tooLarge(size: 5_000_000, limit: 1_048_576), now: f.clock.now)
        try Data("big".utf8).write(to: URL(fileURLWithPath: f.layout.claimDirectory("acme") + "/" + claimName))
        try f.runUntilIdle()
        #expect(f.list(f.layout.claimDirectory("acme")).isEmpty)
        #expect(f.list(f.layout.refusedDirectory("acme")).map { $0.split(separator: "/").last.map(String.init) ?? $0 } == [claimName])
    }

    @Test func aClaimAlreadyRecordedButLeftOnDiskIsRemovedNotRecordedAgain() throws {
        let f = try EngineFixture()
        let claimName = "18c2f00b2-3e9-recorded.csv"
        let text = EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"])
        // The crash came after the commit and before the claimed file was removed.
        let id = try f.store.createRequest(tenant: "acme", fileName: "recorded.csv", configurator: "si", claimName: claimName,
                                           content: Array(text.utf8), rejection: nil, now: f.clock.now)
        try Data(text.utf8).write(to: URL(fileURLWithPath: f.layout.claimDirectory("acme") + "/" + claimName))
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: nil).map(\.id) == [id])
        #expect(f.list(f.layout.claimDirectory("acme")).isEmpty)
        #expect(f.list(f.layout.refusedDirectory("acme")).isEmpty)
        #expect(try f.request(id).status == .done)
    }

    @Test func aFileIsTakenOnlyOnceSettledAndCompleteUploadsOnly() throws {
        let f = try EngineFixture { $0.settleTime = 5 }
        // Written just now on the test's clock (not the kernel's: the clock may be years ahead):
        // its close seen by inotify now. Closed, so taken after the quiet time (UploadCompletion).
        try f.drop("fresh.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        f.engine.intake.noteChange(tenant: "acme", name: RawFileName("fresh.csv"), at: f.clock.now)
        for name in [".hidden.csv", "upload.csv.part", "upload.tmp", "upload.csv.filepart"] {
            try f.drop(name, text: EngineFixture.bulk(["\(R.ok2);\(R.mome(2));Standard"]))
        }
        let changed = f.clock.now
        let summary = try f.engine.pass()
        #expect(summary.recorded == 0)
        #expect(summary.nextWakeAt == changed + UploadCompletion.defaultQuietTime)
        f.clock.set(changed + UploadCompletion.defaultQuietTime)
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: nil).map(\.fileName) == ["fresh.csv"])
        f.clock.advance(by: 3600)
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: nil).count == 1)
        #expect(f.list(f.layout.incoming("acme")) == [".hidden.csv", "upload.csv.filepart", "upload.csv.part", "upload.tmp"])
    }

    // MARK: CSV dialects through the whole pipeline

    @Test func csvDialectsGiveTheSameRows() throws {
        let f = try EngineFixture()
        var next = 300
        /// Two fresh (POD, SID) pairs per file.
        func pairs() -> [(String, String)] {
            defer { next += 2 }
            return [(R.bankPOD(next), R.bankSID(next)), (R.bankPOD(next + 1), R.bankSID(next + 1))]
        }
        var files: [(name: String, bytes: [UInt8], expect: [(pod: String, sid: String, type: String, code: String)])] = []
        func add(_ name: String, _ make: ([(String, String)]) -> [UInt8], types: [String] = ["Standard", "Prosumer"],
                 codes: [String] = ["OK", "OK"], pods: [String]? = nil) {
            var p = pairs()
            if let pods { p = zip(p, pods).map { ($1, $0.1) } }
            let expect = zip(p, zip(types, codes)).map { (pod: $0.0, sid: $0.1, type: $1.0, code: $1.1) }
            files.append((name, make(p), expect))
        }
        // Prosumer rows need a POD with production PODs: only R.prosumer has them, so the
        // second row of every file is Standard except in one file.
        add("semicolon-crlf-header.csv", { p in
            Array("POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n\(p[0].0);\(p[0].1);Standard\r\n\(p[1].0);\(p[1].1);Prosumer\r\n".utf8)
        }, pods: [R.bankPOD(300), R.prosumer])
        add("comma-lf-no-header.csv", { p in Array("\(p[0].0),\(p[0].1),Standard\n\(p[1].0),\(p[1].1),standard\n".utf8) },
            types: ["Standard", "Standard"])
        add("tab-header.csv", { p in Array("POD\tSID\tTipo\n\(p[0].0)\t\(p[0].1)\tStandard\n\(p[1].0)\t\(p[1].1)\tSTANDARD\n".utf8) },
            types: ["Standard", "Standard"])
        add("bom-crlf.csv", { p in [0xEF, 0xBB, 0xBF] + Array("POD;SID;Tipo\r\n\(p[0].0);\(p[0].1);Standard\r\n\(p[1].0);\(p[1].1);Standard".utf8) },
            types: ["Standard", "Standard"])
        add("quoted.csv", { p in
            Array("\"POD\";\"Identificativo; MOME\";\"Tipo\"\r\n\"\(p[0].0)\";\"\(p[0].1)\";\"Standard\"\r\n\"\(p[1].0);X\";\"\(p[1].1)\";Standard\r\n".utf8)
        }, types: ["Standard", "Standard"], codes: ["OK", "INVALID_POD"])
        add("windows-1252.csv", { p in
            Array("POD;Identificativo MOME/Smart INFO;Tipo Configurazione (modalit".utf8) + [0xE0]
                + Array(")\r\n\(p[0].0);\(p[0].1);standard\r\n\(p[1].0);\(p[1].1);Standard;;\r\n".utf8)
        }, types: ["Standard", "Standard"])
        add("blank-lines-trailing-cells.csv", { p in
            Array("\r\n\r\nPOD;SID;Tipo\r\n\r\n\(p[0].0);\(p[0].1);Standard;\r\n;;;\r\n\r\n \(p[1].0) ; \(p[1].1) ;\tstandard\t;;\r\n\r\n".utf8)
        }, types: ["Standard", "Standard"])
        add("lower-case-no-header.csv", { p in Array("\(p[0].0.lowercased());\(p[0].1.lowercased());standard\n\(p[1].0);\(p[1].1);Standard\n".utf8) },
            types: ["Standard", "Standard"])

        // Excel writes an empty row as delimiters only: it is blank, and the header after it
        // is still the header (the first non-blank row).
        add("excel-empty-first-row.csv", { p in
            Array(";;\r\n ; ; \r\nPOD;SID;Tipo\r\n\(p[0].0);\(p[0].1);Standard\r\n;;\r\n\(p[1].0);\(p[1].1);Standard\r\n".utf8)
        }, types: ["Standard", "Standard"])

        for file in files { try f.drop(file.name, file.bytes) }
        try f.runUntilIdle()
        let byName = try requests(f)
        #expect(byName.count == files.count)
        for file in files {
            guard let r = byName[file.name] else { Issue.record("no request for \(file.name)"); continue }
            #expect(r.status == .done, "\(file.name): \(r.status) \(r.reason ?? "")")
            #expect(r.rowsTotal == file.expect.count, "\(file.name)")
            let rows = try f.esito(r).rows
            #expect(rows.count == file.expect.count, "\(file.name)")
            for (row, want) in zip(rows, file.expect) {
                #expect(row["CODICE"] == want.code, "\(file.name) \(want.pod)")
                if want.code == "OK" {
                    #expect(row["POD"] == want.pod, "\(file.name)")
                    #expect(row["SID"] == want.sid, "\(file.name)")
                    #expect(row["TIPO CONFIGURAZIONE"] == want.type, "\(file.name)")
                }
            }
            #expect(try f.read(f.resultFolder(r) + "/richiesta.csv") == file.bytes, "\(file.name): richiesta.csv is not the upload")
        }
        // The quoted delimiter stayed inside its cell: one POD cell "…;X", not four cells.
        if let quoted = byName["quoted.csv"] {
            let second = try f.esito(quoted).rows[1]
            #expect(second["POD"]?.hasSuffix(";X") == true)
        }
    }

    // MARK: Header and upper-casing rules through the whole pipeline

    @Test func aFirstRowWithATypoIsARefusedRowNotAHeader() throws {
        let f = try EngineFixture()
        // Blank and delimiter-only lines first: the typo row is the first non-blank row, has
        // digits, so it is data (the old rule, "header unless it begins with IT", dropped it).
        let text = "\r\n;;\r\nXX001E00000001;16SMISF8100001001;Standard\r\n\(R.bankPOD(250));\(R.bankSID(250));Standard\r\n"
        try f.drop("typo-first.csv", text: text)
        // Letters only in every cell: a header, whatever its names.
        try f.drop("lower-header.csv", text: "pod;sid;tipo\n\(R.bankPOD(251));\(R.bankSID(251));standard\n")
        try f.runUntilIdle()
        let byName = try requests(f)

        let typo = try #require(byName["typo-first.csv"])
        #expect(typo.status == .done && typo.rowsTotal == 2 && typo.rowsFailed == 1)
        #expect(try f.store.rows(of: typo.id).map(\.line) == [3, 4])
        let rows = try f.esito(typo).rows
        #expect(rows.map { $0["POD"] } == ["XX001E00000001", R.bankPOD(250)])
        #expect(rows.map { $0["CODICE"] } == ["INVALID_POD", "OK"])
        #expect(rows.map { $0["TENTATIVI"] } == ["0", "1"])

        let header = try #require(byName["lower-header.csv"])
        #expect(header.rowsTotal == 1)
        #expect(try f.store.rows(of: header.id).map(\.line) == [2])
        #expect(try f.esito(header).rows.map { $0["CODICE"] } == ["OK"])
    }

    @Test func nonASCIILettersAreNotUpperCasedIntoValidValues() throws {
        let f = try EngineFixture()
        let request = try f.submit("look-alikes.csv", rows: [
            "\u{0131}t001e\(R.bankPOD(260).dropFirst(6));\(R.bankSID(260));Standard",       // ıt001e…: dotless i
            "\(R.bankPOD(261));\(R.bankSID(261));\u{017F}tandard",                           // ſtandard: long s
            "\(R.bankPOD(262));\(R.bankSID(262));pro\u{017F}umer",
            "\(R.bankPOD(263));\(R.bankSID(263).dropLast(1))\u{00DF};Standard",             // ß at the end of the SID
            "\(R.bankPOD(264));\(R.bankSID(264).lowercased());standard",                    // ASCII lower case: fine
        ])
        let rows = try f.esito(request).rows
        #expect(rows.map { $0["CODICE"] } == ["INVALID_POD", "INVALID_CONFIG_TYPE", "INVALID_CONFIG_TYPE", "INVALID_SID", "OK"])
        // The cells are shown as read: trimmed, a–z upper-cased, nothing else changed.
        #expect(rows[0]["POD"] == "\u{0131}T001E\(R.bankPOD(260).dropFirst(6))")
        #expect(rows[1]["TIPO CONFIGURAZIONE"] == "\u{017F}TANDARD")
        #expect(rows[3]["SID"] == "\(R.bankSID(263).dropLast(1))\u{00DF}")
        #expect(try f.associationCount() == 1)
    }
}
