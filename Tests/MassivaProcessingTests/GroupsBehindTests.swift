import Foundation
import Testing
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaTestSupport

/// On PostgreSQL a group of first passes runs with its reads read ahead and its writes sent
/// behind (`Engine.runBehind`); when anything in it fails, the group is rolled back whole and run
/// again with a savepoint per request, so every request gets the answer it gets on SQLite. These
/// run on both engines (`MASSIVA_TEST_DATABASE`); the counts of groups are PostgreSQL's only.
@Suite struct GroupsBehindTests {
    /// 20 uploads of 5 rows: three groups of eight at most (PostgreSQL's groups are of 32 unless
    /// set); a device in two uploads of one group (the second finds it taken by the first, as the
    /// database would say).
    @Test func groupsSentBehindGiveTheSameOutcomesAsRequestByRequest() throws {
        let f = try EngineFixture()
        f.engine.groupSize = 8
        for n in 0..<20 {
            let rows = (0..<5).map { i in "\(TestRegistry.bankPOD(n * 5 + i));\(TestRegistry.bankSID(n * 5 + i));Standard" }
            // Upload 9 also asks for upload 8's first device, on another POD.
            let extra = n == 9 ? ["\(TestRegistry.bankPOD(300));\(TestRegistry.bankSID(40));Standard"] : []
            try f.drop(String(format: "u%02d.csv", n), text: EngineFixture.bulk(rows + extra))
        }
        try f.runUntilIdle()
        let requests = try f.store.requests(tenant: "acme")
        #expect(requests.count == 20)
        #expect(requests.allSatisfy { $0.status == .done }, "\(requests.map(\.status))")
        #expect(requests.map(\.rowsTotal).reduce(0, +) == 101)
        #expect(requests.map(\.rowsFailed).reduce(0, +) == 1)
        #expect(try f.associationCount() == 100)
        let done = f.logged.events("done")
        #expect(done.count == 20)
        #expect(done.filter { $0.contains("errors=1") }.count == 1, "\(done)")
        #expect(done.filter { $0.contains("errors=0") }.count == 19, "\(done)")
        if f.databaseLocation.engine == .postgresql {
            // The engine's first group closes the outage state it starts in, the usual way.
            #expect(f.engine.groupsRunBehind >= 2, "groups sent behind: \(f.engine.groupsRunBehind)")
        } else {
            #expect(f.engine.groupsRunBehind == 0)
        }
        #expect(f.engine.groupsRunAgain == 0)
        #expect(f.logged.events("group_again").isEmpty)
    }

    /// A request that fails unforeseeably in a group sent behind: the group is run again request
    /// by request, the failing one rejected, the others done; nothing of the first try is left.
    @Test func aFailingRequestInAGroupSentBehindIsAnsweredAsUsual() throws {
        let f = try EngineFixture()
        let poison = TestRegistry.bankPOD(77)
        let clock = f.clock
        let engine = try Engine(configuration: f.configuration, store: f.store,
                                registry: PoisonRequestTests.PoisonedRegistry(f.registry, poison: poison),
                                log: f.engine.log, clock: { clock.now })
        engine.groupSize = 8
        // A first group to open the engine's way (see above), then one with the poison in it.
        for n in 0..<12 {
            let pod = n == 10 ? poison : TestRegistry.bankPOD(n)
            try f.drop(String(format: "u%02d.csv", n), text: EngineFixture.bulk(["\(pod);\(TestRegistry.bankSID(n));Standard"]))
        }
        try engine.runUntilIdle()
        let requests = try f.store.requests(tenant: "acme").sorted { $0.id.number < $1.id.number }
        #expect(requests.map(\.status) == Array(repeating: .done, count: 10) + [.rejected, .done])
        #expect(try f.associationCount() == 11)
        #expect(f.logged.events("request_failed").count == 1)
        #expect(f.logged.events("done").count == 11)
        if f.databaseLocation.engine == .postgresql {
            #expect(engine.groupsRunAgain == 1)
            #expect(f.logged.events("group_again").count == 1)
        }
    }
}
