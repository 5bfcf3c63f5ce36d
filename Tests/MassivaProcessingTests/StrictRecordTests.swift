import Foundation
import Testing
import MassivaDomain
import MassivaRegistry
import MassivaStore
import MassivaTestSupport
@testable import MassivaProcessing

/// Stored values are decoded strictly: a record that does not decode is an error of its request,
/// never a default and never a skipped row.
@Suite struct StrictRecordTests {
    typealias R = TestRegistry

    /// A waiting row whose configuration does not decode used to be skipped at every retry, so
    /// its request stayed due and `serve --once` never finished. Now the request fails, logged.
    @Test func aWaitingRowThatDoesNotDecodeFailsItsRequest() throws {
        let f = try EngineFixture()
        let request = try f.submit("flaky.csv", rows: ["\(R.flaky2);\(R.mome(1));Standard", "\(R.ok1);\(R.mome(2));Standard"])
        #expect(request.status == .processing)
        try f.database.run("UPDATE rows SET configuration = 'Hybrid' WHERE request = ? AND state = 'waiting'", [.int(request.id.number)])
        f.clock.advance(by: f.configuration.maximalBackoffTime)
        try f.runUntilIdle()  // returns: nothing stays due
        let failed = try f.request(request.id)
        #expect(failed.status == .rejected)
        #expect(failed.reason?.contains("configuration \"Hybrid\" is not a known value") == true)
        #expect(f.logged.events("request_failed").count == 1)
        #expect(try f.store.dueRequestsFairly(now: f.clock.now + 1e6, limit: 10).isEmpty)
        #expect(try f.store.queueFigures().waitingRows == 0)
    }

    @Test func anUnknownRequestStatusIsAnErrorNotQueued() throws {
        let f = try EngineFixture()
        let request = try f.submit("ok.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        try f.database.run("UPDATE requests SET status = 'paused' WHERE id = ?", [.int(request.id.number)])
        let error = #expect(throws: RecordError.self) { _ = try f.store.request(request.id) }
        #expect(error == RecordError(table: "requests", key: request.id.description, column: "status", value: "paused"))
    }

    @Test func anUnknownRowCodeOrStateIsAnError() throws {
        let f = try EngineFixture()
        let request = try f.submit("ok.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        try f.database.run("UPDATE rows SET code = 'MAYBE' WHERE request = ?", [.int(request.id.number)])
        #expect(throws: RecordError.self) { _ = try f.store.rows(of: request.id) }
        try f.database.run("UPDATE rows SET code = 'OK', state = 'pending' WHERE request = ?", [.int(request.id.number)])
        #expect(throws: RecordError.self) { _ = try f.store.rows(of: request.id) }
    }

    /// A row refused by checks 1–4 keeps the text it was uploaded with; any other row must have
    /// a configuration type.
    @Test func onlyRowsRefusedBeforeCheckFourMayLackAConfigurationType() throws {
        let f = try EngineFixture()
        let request = try f.submit("mixed.csv", rows: ["\(R.ok1);\(R.mome(1));Hybrid", "\(R.ok2);\(R.mome(2));Standard"])
        let rows = try f.store.rows(of: request.id)
        #expect(rows.map(\.configuration) == ["HYBRID", "Standard"])
        #expect(rows.map(\.configurationType) == [nil, .standard])
        try f.database.run("UPDATE rows SET configuration = 'HYBRID' WHERE request = ? AND position = 1", [.int(request.id.number)])
        #expect(throws: RecordError.self) { _ = try f.store.rows(of: request.id) }
    }

    /// The embedded registry answers "internal error" for an association it cannot decode.
    @Test func anAssociationThatDoesNotDecodeIsARegistryInternalError() throws {
        let f = try EngineFixture()
        _ = try f.submit("ok.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        try f.database.run("UPDATE associations SET configuration_type = 'standard' WHERE pod = ?", [.text(R.ok1)])
        #expect(throws: RegistryError.self) { _ = try f.registry.association(pod: R.ok1) }
        #expect(throws: RegistryError.self) { _ = try f.registry.associations(tenant: "acme") }
    }
}
