import Foundation
import Testing
import MassivaDomain
import MassivaSpool
import MassivaStore
import MassivaSystem
import MassivaTestSupport
@testable import MassivaProcessing

/// Re-uploads recognised (`duplicate_upload_window`, issue 22): the same name and bytes as one of
/// the tenant's requests of the window become one rejected request naming the earlier one, and
/// no row is processed twice. Real files, a real database, the fixture's fake clock.
@Suite struct DuplicateUploadTests {
    typealias R = TestRegistry

    static let rows = ["\(R.bankPOD(300));\(R.bankSID(300));Standard", "\(R.bankPOD(301));\(R.bankSID(301));Standard"]
    static var text: String { EngineFixture.bulk(rows) }

    func newRequests(_ f: EngineFixture, after before: Set<RequestID>) throws -> [RequestRecord] {
        try f.store.requests(tenant: nil).filter { !before.contains($0.id) }.sorted { $0.id < $1.id }
    }

    /// Drops `text` as `name` and runs the engine; returns the one request it made.
    func send(_ f: EngineFixture, _ name: String, _ text: String = Self.text, tenant: String = "acme") throws -> RequestRecord {
        let before = Set(try f.store.requests(tenant: nil).map(\.id))
        try f.drop(name, text: text, tenant: tenant)
        try f.runUntilIdle()
        let made = try newRequests(f, after: before)
        try #require(made.count == 1, "\(made.map(\.fileName))")
        return made[0]
    }

    @Test func theSameFileSentAgainWithinTheWindowIsRejectedNamingTheFirstAndNoRowRunsTwice() throws {
        let f = try EngineFixture()
        let first = try send(f, "lotto.csv")
        #expect(first.status == .done && first.rowsProcessed == 2)
        let rowsBefore = try f.store.rows(of: first.id)
        let associations = try f.associationCount()

        f.clock.advance(by: 86400 - 1)  // the default window, less a second
        let again = try send(f, "lotto.csv")
        #expect(again.status == .rejected)
        #expect(again.rowsTotal == 0 && again.rowsProcessed == 0)
        #expect(try f.store.rows(of: again.id).isEmpty)
        #expect(try f.store.duplicateOf(again.id) == first.id)
        let reason = again.reason ?? ""
        #expect(reason.contains("già caricato") && reason.contains(first.id.description), "\(reason)")
        #expect(reason.contains(SystemClock.iso8601(first.submittedAt)), "\(reason)")
        // Nothing of the first changed, no association made twice.
        #expect(try f.store.rows(of: first.id) == rowsBefore)
        #expect(try f.associationCount() == associations)

        // The SI sees it: stato.json, richiesta.csv (what it sent) and richieste.csv's line.
        let stato = try f.stato(again)
        #expect(stato["status"] as? String == "rejected")
        #expect(stato["reason"] as? String == reason)
        #expect(stato["outcome"] as? String == "Rifiutato: " + reason)
        #expect(try f.read(f.resultFolder(again) + "/richiesta.csv") == Array(Self.text.utf8))
        let line = try #require(try f.requestList().first { $0.first == again.id.description })
        #expect(line.contains { $0.contains(first.id.description) }, "\(line)")
        #expect(f.logged.events("rejected").contains { $0.contains(again.id.description) })
    }

    @Test func afterTheWindowTheSameFileIsANewRequest() throws {
        let f = try EngineFixture { $0.duplicateUploadWindow = 3600 }
        let first = try send(f, "lotto.csv")
        f.clock.advance(by: 3601)
        let later = try send(f, "lotto.csv")
        #expect(later.status == .done, "\(later.reason ?? "")")
        #expect(try f.store.duplicateOf(later.id) == nil)
        #expect(later.id != first.id)
    }

    @Test func anotherNameOrOtherBytesAreNotARepeat() throws {
        let f = try EngineFixture()
        let first = try send(f, "lotto.csv")
        // The same bytes under another name: a new request (an SI may mean it).
        let renamed = try send(f, "lotto-bis.csv")
        #expect(renamed.status == .done, "\(renamed.reason ?? "")")
        // The same name, one byte changed (a row added): a new request.
        let changed = try send(f, "lotto.csv", EngineFixture.bulk(Self.rows + ["\(R.bankPOD(302));\(R.bankSID(302));Standard"]))
        #expect(changed.status == .done, "\(changed.reason ?? "")")
        #expect(changed.rowsProcessed == 3)
        // Another tenant's same name and bytes: its own request.
        let other = try send(f, "lotto.csv", tenant: "voltaic")
        #expect(other.status != .rejected || !(other.reason ?? "").contains("già caricato"), "\(other.reason ?? "")")
        #expect(try [renamed, changed, other].allSatisfy { try f.store.duplicateOf($0.id) == nil })
        #expect(first.status == .done)
    }

    @Test func aZeroWindowTurnsTheCheckOff() throws {
        let f = try EngineFixture { $0.duplicateUploadWindow = 0 }
        _ = try send(f, "lotto.csv")
        let again = try send(f, "lotto.csv")
        #expect(again.status == .done)
    }

    /// Two twins claimed in one pass: the second is told about the first (one transaction).
    @Test func twinsRecordedTogetherAreToldApart() throws {
        let f = try EngineFixture()
        let acme = try #require(try f.store.tenant("acme"))
        try f.drop("lotto.csv", text: Self.text)
        let first = try f.engine.intake.scan(tenant: acme, now: f.clock.now).recorded
        try f.drop("lotto.csv", text: Self.text)
        let second = try f.engine.intake.scan(tenant: acme, now: f.clock.now).recorded
        #expect(first.count == 1 && second.count == 1)
        #expect(try f.request(first[0]).status == .queued)
        #expect(try f.request(second[0]).status == .rejected)
        #expect(try f.store.duplicateOf(second[0]) == first[0])
    }

    /// The window runs from the upload that was processed, not from the last rejected repeat:
    /// a file sent every 20 hours is taken again once a day has passed since it was taken.
    @Test func aRepeatOfARepeatCountsFromTheProcessedOne() throws {
        let f = try EngineFixture()
        let first = try send(f, "lotto.csv")
        f.clock.advance(by: 20 * 3600)
        let repeat1 = try send(f, "lotto.csv")
        #expect(repeat1.status == .rejected)
        #expect(try f.store.duplicateOf(repeat1.id) == first.id)
        f.clock.advance(by: 20 * 3600)  // 40 h after the first, 20 h after the repeat
        let third = try send(f, "lotto.csv")
        #expect(third.status == .done, "\(third.reason ?? "")")
        // And the next repeat names the one processed last.
        f.clock.advance(by: 60)
        let repeat2 = try send(f, "lotto.csv")
        #expect(try f.store.duplicateOf(repeat2.id) == third.id)
    }

    /// A cancelled request had no row processed: sending it again is how the SI asks for it
    /// after all. A request rejected for another reason (a disabled tenant) is taken when sent again.
    @Test func aCancelledOrRejectedRequestIsNoOriginal() throws {
        let f = try EngineFixture()
        let acme = try #require(try f.store.tenant("acme"))
        try f.drop("lotto.csv", text: Self.text)
        let queued = try #require(try f.engine.intake.scan(tenant: acme, now: f.clock.now).recorded.first)
        #expect(try f.store.cancel(queued, tenant: "acme", now: f.clock.now) == .cancelled)
        let resent = try send(f, "lotto.csv")
        #expect(resent.status == .done, "\(resent.reason ?? "")")

        #expect(try f.store.setTenant("voltaic", enabled: false))
        let refused = try send(f, "lotto.csv", tenant: "voltaic")
        #expect(refused.status == .rejected)
        #expect((refused.reason ?? "").contains("disabilitata"))
        #expect(try f.store.setTenant("voltaic", enabled: true))
        let taken = try send(f, "lotto.csv", tenant: "voltaic")
        #expect(!(taken.reason ?? "").contains("già caricato"), "\(taken.reason ?? "")")
        #expect(try f.store.duplicateOf(taken.id) == nil)
    }
}
