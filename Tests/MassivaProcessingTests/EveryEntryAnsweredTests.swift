import Foundation
import Testing
import MassivaDomain
import MassivaSpool
import MassivaStore
import MassivaSystem
import MassivaTestSupport
@testable import MassivaProcessing

/// Every entry of `incoming/` answered where the SI looks, nothing piling up (issue 22, item 4):
/// a folder with files, a `.cancel` that cancels nothing, refused uploads kept bounded and
/// cleaned by `result_retention`. Real files, a real database, the fixture's fake clock.
@Suite struct EveryEntryAnsweredTests {
    typealias R = TestRegistry

    /// Bytes of every regular file under `directory`, recursively.
    func bytesUnder(_ f: EngineFixture, _ directory: String) throws -> Int {
        try f.walk(directory).reduce(0) { total, relative in
            let status = try FileStatus.ofLink(directory + "/" + relative)
            return total + (status.kind == .regular ? Int(status.size) : 0)
        }
    }

    @Test func aFolderWithFilesIsAnsweredOnceAndRemovedItsFilesKeptBoundedInRefused() throws {
        let f = try EngineFixture()
        let incoming = f.layout.incoming("acme")
        let folder = incoming + "/lotti"
        try FileSystem.makeDirectory(folder + "/dentro", intermediate: true)
        let good = EngineFixture.bulk(["\(R.bankPOD(310));\(R.bankSID(310));Standard"])
        try Data(good.utf8).write(to: URL(fileURLWithPath: folder + "/a.csv"))
        try Data(repeating: 0x41, count: 5 * 1_048_576).write(to: URL(fileURLWithPath: folder + "/grande.csv"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/dentro/b.csv"))

        try f.runUntilIdle()
        let requests = try f.store.requests(tenant: "acme")
        #expect(requests.count == 1)
        let r = try #require(requests.first)
        #expect(r.fileName == "lotti" && r.status == .rejected)
        let reason = r.reason ?? ""
        #expect(reason.contains("cartella") && reason.contains("non sono accettate"), "\(reason)")
        #expect(try f.store.rows(of: r.id).isEmpty)
        // The SI sees it in results/.
        let stato = try f.stato(r)
        #expect(stato["status"] as? String == "rejected" && stato["reason"] as? String == reason)
        #expect(try f.requestList().contains { $0.first == r.id.description })
        // Gone from incoming/ and from the claim folder; its files kept aside, at most 64 KiB.
        #expect(f.list(incoming).isEmpty)
        #expect(f.list(f.layout.claimDirectory("acme")).isEmpty)
        let refused = f.layout.refusedDirectory("acme")
        let kept = f.list(refused)
        #expect(kept.count == 1 && kept.first?.hasSuffix("-lotti") == true, "\(kept)")
        let copy = refused + "/" + (kept.first ?? "")
        #expect(try f.read(copy + "/a.csv") == Array(good.utf8))
        #expect(try bytesUnder(f, copy) <= RefusedFolder.keptBytes)
        #expect(f.walk(copy).contains("dentro"), "\(f.walk(copy))")

        // Answered once: later passes make nothing more.
        f.clock.advance(by: 60)
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: "acme").count == 1)
    }

    @Test func aCancelOfAnUnknownOrAnotherSIsRequestGetsTheSameAnswer() throws {
        let f = try EngineFixture()
        let acme = try #require(try f.store.tenant("acme"))
        try f.drop("lotto.csv", text: EngineFixture.bulk(["\(R.bankPOD(320));\(R.bankSID(320));Standard"]))
        let acmes = try #require(try f.engine.intake.scan(tenant: acme, now: f.clock.now).recorded.first,
                                 "\(f.logged.lines)")
        let unknown = RequestID(acmes.number + 500)

        try f.drop("\(acmes).cancel", text: "", tenant: "voltaic")
        try f.drop("\(unknown).cancel", text: "", tenant: "voltaic")
        try f.runUntilIdle()

        #expect(f.list(f.layout.incoming("voltaic")).isEmpty)
        let answers = try f.store.requests(tenant: "voltaic").sorted { $0.fileName < $1.fileName }
        #expect(answers.map(\.fileName) == ["\(acmes).cancel", "\(unknown).cancel"])
        #expect(answers.allSatisfy { $0.status == .rejected })
        let reasons = answers.map { $0.reason ?? "" }
        #expect(reasons[0].contains("non è stata trovata"), "\(reasons)")
        // The same words but for the number: nothing tells the existing request from the unknown one.
        #expect(reasons[0].replacingOccurrences(of: acmes.description, with: "N")
                == reasons[1].replacingOccurrences(of: unknown.description, with: "N"), "\(reasons)")
        for answer in answers {
            let stato = try f.stato(answer)
            #expect(stato["reason"] as? String == answer.reason)
            #expect(try f.requestList(tenant: "voltaic").contains { $0.first == answer.id.description })
        }
        // acme's request went on untouched, with no note.
        let still = try f.request(acmes)
        #expect(still.status == .done && still.note == nil)

        // A name that is no request number is answered too; answered once.
        try f.drop("annulla.cancel", text: "", tenant: "voltaic")
        try f.runUntilIdle()
        let garbage = try #require(try f.store.requests(tenant: "voltaic").first { $0.fileName == "annulla.cancel" })
        #expect((garbage.reason ?? "").contains("non indica una richiesta"), "\(garbage.reason ?? "")")
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: "voltaic").count == 3)
    }

    @Test func aRefusedLargeUploadLeavesAtMost64KiBAside() throws {
        let f = try EngineFixture()  // max_file_size 1 MB
        var bytes = Array(EngineFixture.bulk(["\(R.bankPOD(330));\(R.bankSID(330));Standard"]).utf8)
        bytes += (0..<(5 * 1_048_576)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try f.drop("enorme.csv", bytes)
        try f.runUntilIdle()
        let r = try #require(try f.store.requests(tenant: "acme").first)
        #expect(r.status == .rejected && (r.reason ?? "").contains("dimensione massima"))
        let refused = f.layout.refusedDirectory("acme")
        let kept = f.list(refused)
        #expect(kept.count == 1 && kept.first?.hasSuffix("-enorme.csv") == true, "\(kept)")
        let copy = try f.read(refused + "/" + (kept.first ?? ""))
        #expect(copy.count == RefusedFolder.keptBytes)
        #expect(copy == Array(bytes.prefix(RefusedFolder.keptBytes)))
        #expect(try FileStatus.ofLink(refused + "/" + (kept.first ?? "")).permissions == 0o600)
        #expect(f.list(f.layout.claimDirectory("acme")).isEmpty && f.list(f.layout.incoming("acme")).isEmpty)
    }

    @Test func resultRetentionRemovesOldRefusedEntries() throws {
        let f = try EngineFixture { $0.resultRetention = 100 }
        let refused = f.layout.refusedDirectory("acme")
        try f.drop("enorme.csv", [UInt8](repeating: 0x41, count: 2 * 1_048_576))
        try f.runUntilIdle()
        #expect(f.list(refused).count == 1)
        let kept = refused + "/" + f.list(refused)[0]
        // Dated from the daemon's clock when it was refused, not the system's.
        #expect(try FileStatus.ofLink(kept).modificationTime == f.clock.now.rounded(.down)
                || abs(try FileStatus.ofLink(kept).modificationTime - f.clock.now) < 0.001)
        // An entry left by an older release, dated long ago, and a folder.
        try Data("old".utf8).write(to: URL(fileURLWithPath: refused + "/vecchio.csv"))
        try FileSystem.setModificationTime(refused + "/vecchio.csv", to: f.clock.now - 1000)
        try FileSystem.makeDirectory(refused + "/vecchia-cartella/dentro", intermediate: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: refused + "/vecchia-cartella/dentro/x.csv"))
        try FileSystem.setModificationTime(refused + "/vecchia-cartella", to: f.clock.now - 1000)

        f.clock.advance(by: 50)
        try f.runUntilIdle()
        #expect(f.list(refused) == [URL(fileURLWithPath: kept).lastPathComponent], "\(f.list(refused))")

        f.clock.advance(by: 60)  // refused 110 s ago
        try f.runUntilIdle()
        #expect(f.list(refused).isEmpty, "\(f.list(refused))")
        #expect(f.logged.events("refused_pruned").count == 2)
    }
}
