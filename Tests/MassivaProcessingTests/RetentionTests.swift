import Foundation
import Testing
import MassivaCSV
import MassivaDomain
import MassivaRegistry
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem
import MassivaTestSupport
@testable import MassivaProcessing

/// `result_retention` and richieste.csv: what the SI sees in `results/` stays consistent (every
/// request richieste.csv lists has its folder), whatever step a crash interrupts.
@Suite struct RetentionTests {
    typealias R = TestRegistry

    /// The request ids richieste.csv lists, in its order.
    static func listed(_ f: EngineFixture, tenant: String = "acme") throws -> [String] {
        let document = try CSVReader.read(try f.read(f.layout.results(tenant) + "/richieste.csv"))
        return document.records.dropFirst().map { $0.cells[0] }
    }

    static func folderExists(_ f: EngineFixture, _ r: RequestRecord) -> Bool {
        FileManager.default.fileExists(atPath: f.resultFolder(r) + "/stato.json")
    }

    /// What the SI must never see: a listed request without its folder.
    static func expectListedFoldersExist(_ f: EngineFixture, tenant: String = "acme") throws {
        for id in try listed(f, tenant: tenant) {
            #expect(FileManager.default.fileExists(atPath: f.layout.resultFolder(tenant, id) + "/stato.json"), "\(id) listed without its folder")
        }
    }

    @Test func aRequestFinishedLongerAgoLeavesResultsAndItsListAndShowRestoreBringsItBack() throws {
        let f = try EngineFixture { $0.resultRetention = 100 }
        let old = try f.submit("old.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        let original = try f.read(f.resultFolder(old) + "/richiesta.csv")
        f.clock.advance(by: 50)
        let recent = try f.submit("recent.csv", rows: ["\(R.ok2);\(R.mome(2));Standard"])
        #expect(try Self.listed(f) == [recent.id.description, old.id.description])

        f.clock.advance(by: 60)  // old finished 110 s ago, recent 60 s ago
        try f.runUntilIdle()
        #expect(!FileManager.default.fileExists(atPath: f.resultFolder(old)))
        #expect(Self.folderExists(f, recent))
        #expect(try Self.listed(f) == [recent.id.description])
        // The data stays: the request, its rows, its association and its audit entries.
        let stored = try f.request(old.id)
        #expect(stored.resultsState == .removed && stored.status == .done)
        #expect(try f.store.rows(of: old.id).first?.code == .ok)
        #expect(try f.registry.association(pod: R.ok1)?.request == old.id.description)
        #expect(try AuditTrail(database: f.database).entries(AuditTrail.Filter(tenant: "acme")).contains { $0.request == old.id.description })

        // show --restore: the folder comes back whole, the list shows it again.
        #expect(try f.store.restore(old.id, now: f.clock.now) == .restoring)
        try f.engine.results.refresh()
        #expect(try f.read(f.resultFolder(old) + "/richiesta.csv") == original)
        #expect(try f.esito(old).rows.first?["CODICE"] == "OK")
        #expect(FileManager.default.fileExists(atPath: f.resultFolder(old) + "/scp.zip"))
        #expect(try Self.listed(f) == [recent.id.description, old.id.description])
        #expect(try f.store.restore(old.id, now: f.clock.now) == .alreadyPresent)

        // It stays another retention period from the restore, then goes again.
        f.clock.advance(by: 60)
        try f.runUntilIdle()
        #expect(Self.folderExists(f, old) && !Self.folderExists(f, recent))
        f.clock.advance(by: 60)
        try f.runUntilIdle()
        #expect(!Self.folderExists(f, old))
        #expect(try Self.listed(f).isEmpty)
    }

    @Test func requestsStillWaitingAndZeroRetentionKeepTheirFolders() throws {
        let f = try EngineFixture { $0.resultRetention = 100 }
        let waiting = try f.submit("waiting.csv", rows: ["\(R.unreachable);\(R.mome(1));Standard"])
        #expect(try f.request(waiting.id).status == .processing)
        f.clock.advance(by: 1000)
        try f.runUntilIdle()
        #expect(try f.request(waiting.id).status == .processing)  // retried and waiting again
        #expect(Self.folderExists(f, waiting))

        let g = try EngineFixture { $0.resultRetention = 0 }
        let kept = try g.submit("kept.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        g.clock.advance(by: 10 * 365 * 86400)
        try g.runUntilIdle()
        #expect(Self.folderExists(g, kept))
        #expect(try Self.listed(g) == [kept.id.description])
    }

    /// Each step of a removal interrupted (what a kill -9 between them leaves), then a restart:
    /// the list never names a missing folder, and the restart finishes the removal.
    @Test func aRemovalInterruptedAtAnyStepIsFinishedByARestart() throws {
        for interruptedAfter in 1...3 {
            let f = try EngineFixture { $0.resultRetention = 100 }
            let old = try f.submit("old.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
            f.clock.advance(by: 200)
            let results = ResultWriter(layout: f.layout, store: f.store, files: ResultFiles(), clock: f.clock.wall)
            // Step 1: the database first.
            #expect(try f.store.retire(finishedBefore: f.clock.now - 100, limit: 10) == 1)
            if interruptedAfter >= 2 { try results.refreshRequestLists() }     // step 2: the list
            if interruptedAfter >= 3 {                                          // step 3, half done
                try FileManager.default.removeItem(atPath: f.resultFolder(old) + "/esito.csv")
                try FileManager.default.removeItem(atPath: f.resultFolder(old) + "/scp.zip")
            }
            try Self.expectListedFoldersExist(f)
            #expect(Self.folderExists(f, old))
            #expect(try Self.listed(f) == (interruptedAfter == 1 ? [old.id.description] : []))
            // A state change meanwhile (a cancellation's note) does not bring the folder back.
            try f.store.setNote(old.id, "annullamento non eseguito")
            #expect(try results.refreshFiles() == 0)
            if interruptedAfter == 3 { #expect(!FileManager.default.fileExists(atPath: f.resultFolder(old) + "/esito.csv")) }

            // The restart: recovery, then passes.
            try f.runUntilIdle()
            #expect(!FileManager.default.fileExists(atPath: f.resultFolder(old)), "after step \(interruptedAfter)")
            #expect(try f.request(old.id).resultsState == .removed)
            #expect(try Self.listed(f).isEmpty)
        }
    }

    @Test func richiesteCsvListsOnlyRequestsWhoseFolderIsWritten() throws {
        let f = try EngineFixture()
        let done = try f.submit("done.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        // A request recorded but whose folder is not written yet is not listed.
        let pending = try f.store.database.transaction {
            try f.store.createRequest(tenant: "acme", fileName: "pending.csv", configurator: "x", claimName: nil,
                                      content: Array("POD;SID;Tipo\r\n".utf8), rejection: nil, now: f.clock.now)
        }
        let results = ResultWriter(layout: f.layout, store: f.store, files: ResultFiles(), clock: f.clock.wall)
        try f.store.markRequestListChanged(tenant: "acme")
        try results.refreshRequestLists()
        #expect(try Self.listed(f) == [done.id.description])
        try Self.expectListedFoldersExist(f)
        // Once its folder is written, the list follows.
        try results.refreshFiles()
        #expect(try Self.listed(f) == [done.id.description])  // the list is written on its own, after
        try results.refreshRequestLists()
        #expect(try Self.listed(f) == [pending.description, done.id.description])
        try Self.expectListedFoldersExist(f)
    }

    @Test func serveOnceLeavesAssociazioniCsvCurrent() throws {
        // associazioni.csv is written on the lists' thread in the daemon; serve --once brings it
        // up to date before it exits.
        let f = try EngineFixture()
        _ = try f.submit("a.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "\(R.ok2);\(R.mome(2));Standard"])
        let list = try CSVReader.read(try f.read(f.layout.results("acme") + "/associazioni.csv"))
        #expect(list.records.count == 3)
    }
}

/// associazioni.csv appended to when only associations were made, written whole otherwise.
@Suite struct AssociationListAppendTests {
    typealias R = TestRegistry

    static func path(_ f: EngineFixture) -> String { f.layout.results("acme") + "/associazioni.csv" }

    /// The list as a full rendering gives it, for comparison.
    static func rendered(_ f: EngineFixture) throws -> [UInt8] {
        let name = try f.store.tenant("acme")?.name ?? "acme"
        return ResultFiles().associationList(try f.registry.associations(tenant: "acme").map { a in
            AssociationListRow(ListedAssociation(association: a, matricola: try f.registry.pod(a.pod)?.matricola ?? ""), tenantName: name)
        })
    }

    @Test func newAssociationsAreAppendedToACopyAndARemovalRewritesTheList() throws {
        let f = try EngineFixture()
        _ = try f.submit("a.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "\(R.ok2);\(R.mome(2));Standard"])
        #expect(try f.read(Self.path(f)) == Self.rendered(f))
        // Mark the written file: a copy keeps the mark, a rendering does not.
        let marked = String(decoding: try f.read(Self.path(f)), as: UTF8.self).replacingOccurrences(of: R.ok1, with: "MARKED-LINE-00")
        try marked.write(toFile: Self.path(f), atomically: true, encoding: .utf8)
        f.clock.advance(by: 10)
        _ = try f.submit("b.csv", rows: ["\(R.ok4);\(R.mome(4));Standard", "\(R.ok5);\(R.mome(5));Standard"])
        let appended = String(decoding: try f.read(Self.path(f)), as: UTF8.self)
        #expect(appended.contains("MARKED-LINE-00"), "the list was rendered whole, not appended to")
        #expect(appended.replacingOccurrences(of: "MARKED-LINE-00", with: R.ok1) == String(decoding: try Self.rendered(f), as: UTF8.self))

        // A removal: written whole again.
        try f.database.transaction {
            try f.registry.deleteAssociation(pod: R.ok2)
            try f.store.markAssociationsChanged(tenant: "acme", removed: true)
        }
        try f.runUntilIdle()
        #expect(try f.read(Self.path(f)) == Self.rendered(f))

        // An association made with an earlier time than the last line (a clock set back): the
        // count does not match a copy, so it is written whole, in order.
        try f.database.transaction {
            try f.registry.createAssociation(Association(pod: R.ok6, sid: R.mome(6), nid: R.nid(of: R.mome(6)), deviceType: "MOME",
                                                         configurationType: .standard, productionPOD: nil, tenant: "acme",
                                                         configurator: "x", request: nil, createdAt: f.clock.now - 10_000))
            try f.store.markAssociationsChanged(tenant: "acme")
        }
        try f.runUntilIdle()
        #expect(try f.read(Self.path(f)) == Self.rendered(f))
        #expect(String(decoding: try f.read(Self.path(f)), as: UTF8.self).components(separatedBy: "\r\n")[1].hasPrefix(R.ok6))
    }
}
