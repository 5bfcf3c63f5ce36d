import Foundation
import Testing
import MassivaDomain
import MassivaRegistry
import MassivaSpool
import MassivaResults
import MassivaStore
import MassivaTestSupport
@testable import MassivaProcessing

/// Retries of unreachable meters, driven by the fake clock.
@Suite struct RetryTests {
    typealias R = TestRegistry

    func row(_ f: EngineFixture, _ id: RequestID, pod: String) throws -> RowRecord {
        try #require(try f.store.rows(of: id).first { $0.pod == pod })
    }

    /// The request's counters are what its rows in the database say (the pass sets them from
    /// the rows it has, `StateStore.settle`).
    func expectCountersMatchRows(_ f: EngineFixture, _ id: RequestID, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let request = try f.request(id)
        let rows = try f.store.rows(of: id)
        let waiting = rows.filter { $0.state == .waiting }
        #expect(request.rowsTotal == rows.count, sourceLocation: sourceLocation)
        #expect(request.rowsProcessed == rows.count - waiting.count, sourceLocation: sourceLocation)
        #expect(request.rowsFailed == rows.filter { $0.state == .error }.count, sourceLocation: sourceLocation)
        #expect(request.maxAttemptsHit == rows.contains { $0.code == .maxAttemptsReached }, sourceLocation: sourceLocation)
        #expect(request.nextDueAt == waiting.compactMap(\.nextAttemptAt).min(), sourceLocation: sourceLocation)
        #expect(request.status == (waiting.isEmpty ? .done : .processing), sourceLocation: sourceLocation)
    }

    /// Runs passes at `t - epsilon` (the row must not move) and at `t` (it must move once).
    func expectDue(_ f: EngineFixture, _ id: RequestID, pod: String, at t: Double) throws -> RowRecord {
        let before = try row(f, id, pod: pod)
        f.clock.set(t - 0.001)
        try f.runUntilIdle()
        #expect(try row(f, id, pod: pod).attempts == before.attempts, "retried before it was due")
        f.clock.set(t)
        try f.runUntilIdle()
        let after = try row(f, id, pod: pod)
        #expect(after.attempts == before.attempts + 1, "not retried when due")
        try expectCountersMatchRows(f, id)
        return after
    }

    @Test func aFlakyMeterSucceedsAfterItsFailuresWithBackoff() throws {
        // min 10 s, max 15 s: the second delay is capped (10 × 2 = 20 > 15).
        let f = try EngineFixture { $0.minimalBackoffTime = 10; $0.maximalBackoffTime = 15 }
        let t0 = f.clock.now
        let request = try f.submit("flaky.csv", rows: ["\(R.flaky2);\(R.mome(1));Standard", "\(R.ok1);\(R.mome(2));Standard"])
        #expect(request.status == .processing)
        try expectCountersMatchRows(f, request.id)
        var r = try row(f, request.id, pod: R.flaky2)
        #expect(r.state == .waiting)
        #expect(r.attempts == 1)
        #expect(r.nextAttemptAt == t0 + 10)
        #expect(request.nextDueAt == t0 + 10)

        // The engine reports when it wants to be woken.
        let summary = try f.engine.pass()
        #expect(summary.nextWakeAt == t0 + 10)

        r = try expectDue(f, request.id, pod: R.flaky2, at: t0 + 10)
        #expect(r.state == .waiting)
        #expect(r.nextAttemptAt == t0 + 10 + 15)
        #expect(try f.request(request.id).status == .processing)

        r = try expectDue(f, request.id, pod: R.flaky2, at: t0 + 25)
        #expect(r.state == .ok)
        #expect(r.code == .ok)
        #expect(r.attempts == 3)  // flaky:2 → OK at the third attempt
        let done = try f.request(request.id)
        #expect(done.status == .done)
        #expect(done.outcomeLabel == "Lavorato")
        #expect(try f.esito(done).rows.map { $0["TENTATIVI"] } == ["3", "1"])
        #expect(try f.registry.association(pod: R.flaky2)?.sid == R.mome(1))

        // Nothing more is due: further time changes nothing.
        f.clock.advance(by: 10_000)
        try f.runUntilIdle()
        #expect(try row(f, request.id, pod: R.flaky2).attempts == 3)
    }

    @Test func anUnreachableMeterRunsOutOfAttempts() throws {
        // Delays after attempts 1..4: min(25, 10·2^(n−1)) = 10, 20, 25, 25.
        let f = try EngineFixture { $0.minimalBackoffTime = 10; $0.maximalBackoffTime = 25; $0.maxAttempts = 5 }
        let t0 = f.clock.now
        let request = try f.submit("unreachable.csv", rows: ["\(R.unreachable);\(R.mome(1));Standard", "\(R.ok1);\(R.mome(2));Standard"])
        var due = t0
        for (attempt, delay) in [10.0, 20, 25, 25].enumerated() {
            let r = try row(f, request.id, pod: R.unreachable)
            #expect(r.attempts == attempt + 1)
            #expect(r.state == .waiting)
            #expect(r.nextAttemptAt == due + delay, "after attempt \(attempt + 1)")
            due += delay
            _ = try expectDue(f, request.id, pod: R.unreachable, at: due)
        }
        let r = try row(f, request.id, pod: R.unreachable)
        #expect(r.attempts == 5)
        #expect(r.code == .maxAttemptsReached)
        #expect(r.state == .error)
        let done = try f.request(request.id)
        #expect(done.status == .done)
        #expect(done.outcomeLabel == "Lavorato con errori: raggiunto massimo numero di tentativi")
        #expect(done.rowsFailed == 1)
        let stato = try f.stato(done)
        #expect(stato["outcome"] as? String == "Lavorato con errori: raggiunto massimo numero di tentativi")
        let rows = try f.esito(done).rows
        #expect(rows.map { $0["CODICE"] } == ["MAX_ATTEMPTS_REACHED", "OK"])
        #expect(rows.map { $0["ESITO"] } == ["In errore", "Elaborato"])
        #expect(rows.map { $0["TENTATIVI"] } == ["5", "1"])
        #expect(try f.registry.association(pod: R.unreachable) == nil)
    }

    @Test func resultFilesAreRefreshedWhileRowsWait() throws {
        let f = try EngineFixture()
        let request = try f.submit("waiting.csv", rows: [
            "\(R.flaky1);\(R.mome(1));Standard",
            "\(R.prosumer);\(R.smartInfo(1));Prosumer",
            "\(R.unreachable);\(R.mome(2));Standard",
        ])
        #expect(request.status == .processing)
        // The SCP of the associated row is there while the other two wait.
        #expect(try f.scripts(request).keys.sorted() == ["\(R.smartInfo(1))_\(R.prosumer).scp"])
        var rows = try f.esito(request).rows
        #expect(rows.map { $0["ESITO"] } == ["In attesa", "Elaborato", "In attesa"])
        var stato = try f.stato(request)
        #expect(stato["status"] as? String == "processing")
        #expect(stato["outcome"] as? String == "In lavorazione")
        #expect(stato["rows_total"] as? Int == 3)
        #expect(stato["rows_processed"] as? Int == 1)
        #expect(stato["completed_at"] is NSNull)
        var list = try f.requestList()
        #expect(list.count == 2)
        #expect(list[1][0] == request.id.description)
        #expect(list[1][4] == "1/3")
        #expect(list[1][6] == "In lavorazione")

        // One retry later the flaky row is associated too: the zip grows before the request ends.
        f.clock.advance(by: f.configuration.minimalBackoffTime)
        try f.runUntilIdle()
        #expect(try f.request(request.id).status == .processing)
        #expect(try f.scripts(request).keys.sorted() == ["\(R.mome(1))_\(R.flaky1).scp", "\(R.smartInfo(1))_\(R.prosumer).scp"])
        rows = try f.esito(request).rows
        #expect(rows.map { $0["ESITO"] } == ["Elaborato", "Elaborato", "In attesa"])
        stato = try f.stato(request)
        #expect(stato["rows_processed"] as? Int == 2)
        list = try f.requestList()
        #expect(list[1][4] == "2/3")
    }

    @Test func aRegistryOutageDoesNotSpendAttempts() throws {
        let f = try EngineFixture { $0.maxAttempts = 2; $0.outageMinimalBackoffTime = 5; $0.outageMaximalBackoffTime = 5 }
        let registry = SwitchableRegistry(f.registry)
        let clock = f.clock
        let engine = try Engine(configuration: f.configuration, store: f.store, registry: registry, log: f.engine.log,
                            policy: ProcessingPolicy(maxRows: 100, maxAttempts: 2, backoff: Backoff(minimal: 10, maximal: 40), jitter: { 0 }),
                            clock: { clock.now })
        try f.drop("outage.csv", text: EngineFixture.bulk(["\(R.flaky1);\(R.mome(1));Standard", "\(R.ok1);\(R.mome(2));Standard"]))
        registry.down = true
        try engine.runUntilIdle()
        let queued = try #require(try f.store.requests(tenant: nil).first)
        #expect(queued.status == .queued)  // recorded, not processed, nothing spent
        #expect(try f.store.rows(of: queued.id).isEmpty)
        #expect(engine.registryPausedUntil == clock.now + 5)

        // Many outage periods later the row still has all its attempts.
        for _ in 0..<5 {
            clock.advance(by: 5)
            try engine.runUntilIdle()
        }
        #expect(try f.request(queued.id).status == .queued)
        registry.down = false
        clock.advance(by: 5)
        try engine.runUntilIdle()
        #expect(try f.request(queued.id).status == .processing)
        registry.down = true
        clock.advance(by: 10)
        for _ in 0..<5 {
            try engine.runUntilIdle()
            clock.advance(by: 5)
        }
        #expect(try row(f, queued.id, pod: R.flaky1).attempts == 1)
        registry.down = false
        try engine.runUntilIdle()
        let r = try row(f, queued.id, pod: R.flaky1)
        #expect(r.code == .ok)
        #expect(r.attempts == 2)
        #expect(try f.request(queued.id).outcomeLabel == "Lavorato")
        #expect(!f.logged.events("registry_unavailable").isEmpty)
    }
}
