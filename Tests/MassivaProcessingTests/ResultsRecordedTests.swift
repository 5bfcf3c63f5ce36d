import Testing
import MassivaDomain
import MassivaStore
import MassivaTestSupport

/// The store's statements for many requests at once (`markResultsWritten`, `requestIDs`) and
/// `createRequest`'s insert that tells a claim recorded before: the same answers as one by one.
/// On both engines (`MASSIVA_TEST_DATABASE`).
@Suite struct ResultsRecordedTests {
    /// 300 requests (two statements), some given twice with two versions, one given a version
    /// older than the one it has: each ends with its newest version; the result time is set
    /// once, for the final requests whose files are up to date; each tenant's list is marked.
    @Test func manyRequestsAtOnceAreRecordedAsOneByOne() throws {
        let f = try EngineFixture()
        let now = f.clock.now
        var ids: [RequestID] = []
        for n in 0..<300 {
            let tenant = n % 2 == 0 ? "acme" : "voltaic"
            // A third rejected at once (final: its result time is set when its files are).
            ids.append(try f.store.createRequest(tenant: tenant, fileName: "f\(n).csv", configurator: "op", claimName: "c\(n)",
                                                 content: [0x41], rejection: n % 3 == 0 ? .tenantDisabled : nil, now: now))
        }
        try f.store.markResultsWritten(ids[7], version: 5, now: now)
        let listsBefore = try f.store.staleRequestLists()
        var written: [(id: RequestID, version: Int)] = ids.map { ($0, 1) }
        written += [(ids[0], 3), (ids[1], 2), (ids[7], 2)]
        try f.store.markResultsWritten(written, now: now + 10)
        for (n, id) in ids.enumerated() {
            let request = try #require(try f.store.request(id))
            let expected = n == 0 ? 3 : n == 1 ? 2 : n == 7 ? 5 : 1
            #expect(request.resultsVersion == expected, "request \(n)")
        }
        let resultTimes = try f.store.database.query("SELECT id, result_at FROM requests ORDER BY id", []) {
            ($0.int("id"), $0.optionalDouble("result_at"))
        }
        for (n, (_, at)) in resultTimes.enumerated() {
            #expect(at == (n % 3 == 0 ? now + 10 : nil), "request \(n): \(String(describing: at))")
        }
        let listsAfter = try f.store.staleRequestLists()
        for tenant in ["acme", "voltaic"] {
            let before = listsBefore.first { $0.tenant == tenant }?.version ?? 1
            let after = try #require(listsAfter.first { $0.tenant == tenant }?.version)
            #expect(after > before, "\(tenant): \(before) -> \(after)")
        }
    }

    /// A claim recorded twice is one request (the second call answers the first's id, nothing
    /// inserted); `requestIDs` finds the claims recorded among many names, over several
    /// statements, and nothing for the others.
    @Test func claimsRecordedAreFoundAtOnceAndNeverRecordedTwice() throws {
        let f = try EngineFixture()
        let now = f.clock.now
        var ids: [String: RequestID] = [:]
        for n in stride(from: 0, to: 600, by: 2) {
            ids["claim-\(n)"] = try f.store.createRequest(tenant: "acme", fileName: "f\(n).csv", configurator: "op",
                                                         claimName: "claim-\(n)", content: [0x41], rejection: nil, now: now)
        }
        let again = try f.store.createRequest(tenant: "acme", fileName: "other.csv", configurator: "op", claimName: "claim-10",
                                              content: [0x42], rejection: nil, now: now + 1)
        #expect(again == ids["claim-10"])
        #expect(try f.store.requests(tenant: "acme").count == 300)
        #expect(try f.store.request(again)?.fileName == "f10.csv")
        let names = (0..<600).map { "claim-\($0)" } + ["claim-x'); --", ""]
        #expect(try f.store.requestIDs(claimNames: names) == ids)
        #expect(try f.store.requestIDs(claimNames: []).isEmpty)
    }
}
