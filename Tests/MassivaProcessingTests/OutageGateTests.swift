import Testing
import MassivaCSV
import MassivaDomain
import MassivaTestSupport
@testable import MassivaProcessing
import MassivaRegistry

/// The registry's outage backoff, driven directly: no engine, no clock, no registry.
@Suite struct OutageGateTests {
    typealias R = TestRegistry

    @Test func anOutageClosesTheGateForTheBackoffAndDoublesItUpToTheMaximum() {
        var gate = OutageGate(backoff: Backoff(minimal: 5, maximal: 15))
        #expect(gate.state == .mayBeOpen && gate.isOpen(at: 0) && gate.pausedUntil == nil)

        let first = gate.failed(now: 100)
        #expect(first == OutageGate.Failure(outages: 1, delay: 5) && first.started)
        #expect(gate.pausedUntil == 105)
        #expect(!gate.isOpen(at: 104.9) && gate.isOpen(at: 105))

        let second = gate.failed(now: 105)
        #expect(second.outages == 2 && second.delay == 10 && !second.started)
        #expect(gate.state == .down(outages: 2, until: 115))
        #expect(gate.failed(now: 115).delay == 15)
        #expect(gate.failed(now: 130).delay == 15)  // the maximum

        #expect(gate.answered() == .outage(outages: 4))
        #expect(gate.state == .available && gate.isOpen(at: 0))
        #expect(gate.answered() == nil)  // nothing more to close
        #expect(gate.failed(now: 200).started)  // a new outage starts from the minimum
        #expect(gate.pausedUntil == 205)
    }

    @Test func theFirstAnswerClosesAnOutageLeftOpenByAnEarlierEngine() {
        var gate = OutageGate(backoff: Backoff(minimal: 5, maximal: 15))
        #expect(gate.answered() == .previous)
        #expect(gate.answered() == nil)
    }

    @Test func theEngineStartsWithTheConfiguredBackoffAndReportsItsPause() throws {
        let f = try EngineFixture { $0.outageMinimalBackoffTime = 7; $0.outageMaximalBackoffTime = 70 }
        #expect(f.engine.outageGate == OutageGate(backoff: Backoff(minimal: 7, maximal: 70)))
        f.engine.outageGate = OutageGate(backoff: Backoff(minimal: 7, maximal: 70),
                                         state: .down(outages: 1, until: f.clock.now + 7))
        #expect(f.engine.registryPausedUntil == f.clock.now + 7)
        // While the gate is closed an upload is recorded, not processed.
        try f.drop("a.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        let summary = try f.engine.pass()
        #expect(summary.recorded == 1 && summary.processed == 0)
        #expect(summary.nextWakeAt == f.clock.now + 7)
        f.clock.advance(by: 7)
        #expect(try f.engine.pass().processed == 1)
        #expect(f.engine.outageGate.state == .available)
        #expect(f.logged.events("registry_available").count == 1)
    }

    @Test func aWrapperRegistrysListsAreWrittenByTheListWriterAsTheDaemonsAre() throws {
        // The lists are read from the spool's database whatever registry the requests are
        // checked against: a wrapper that fails (here, down for the rows) changes nothing.
        let f = try EngineFixture { $0.outageMinimalBackoffTime = 5; $0.outageMaximalBackoffTime = 5 }
        let registry = SwitchableRegistry(f.registry)
        let clock = f.clock
        let engine = try Engine(configuration: f.configuration, store: f.store, registry: registry, log: f.engine.log,
                                clock: { clock.now })
        try f.drop("a.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard", "\(R.ok2);\(R.mome(2));Standard"]))
        try engine.runUntilIdle()
        let list = try CSVReader.read(try f.read(f.layout.results("acme") + "/associazioni.csv"))
        #expect(list.records.count == 3)  // the header and both associations
        // An association made meanwhile (a command's) is listed though the wrapper is down.
        registry.down = true
        try f.database.transaction {
            try f.registry.createAssociation(Association(pod: R.ok6, sid: R.mome(6), nid: R.nid(of: R.mome(6)), deviceType: "MOME",
                                                         configurationType: .standard, productionPOD: nil, tenant: "acme",
                                                         configurator: "x", request: nil, createdAt: f.clock.now))
            try f.store.markAssociationsChanged(tenant: "acme")
        }
        try engine.runUntilIdle()
        let after = try CSVReader.read(try f.read(f.layout.results("acme") + "/associazioni.csv"))
        #expect(after.records.count == 4)
        #expect(f.logged.events("association_lists_deferred").isEmpty)
        #expect(f.logged.events("lists_failed").isEmpty)
    }
}
