import Foundation
import Testing
import MassivaConfig
import MassivaDomain
import MassivaStore
import MassivaTestSupport
@testable import MassivaProcessing

/// `active_queue_limit`: how many requests one step of a pass takes, as configured (it used to
/// be capped at 256 whatever the configuration said).
@Suite struct ActiveQueueTests {
    typealias R = TestRegistry

    @Test func aPassTakesAtMostTheLimitAndTheNextOnesTheRest() throws {
        let f = try EngineFixture { $0.activeQueueLimit = 3 }
        for i in 0..<7 { try f.drop("f\(i).csv", text: EngineFixture.bulk(["\(R.bankPOD(i));\(R.bankSID(i));Standard"])) }
        let first = try f.engine.pass()
        #expect(first.recorded == 3 && first.processed == 3)
        let second = try f.engine.pass()
        #expect(second.recorded == 3 && second.processed == 3)
        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: nil).map(\.status) == Array(repeating: .done, count: 7))
    }

    @Test func theConfiguredLimitIsTheChunkWhateverItsSize() throws {
        #expect(Configuration.defaults.activeQueueLimit == 256)
        let f = try EngineFixture { $0.activeQueueLimit = 1000 }
        #expect(f.engine.chunkSize == 1000)
    }
}
