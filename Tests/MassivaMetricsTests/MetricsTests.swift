import Foundation
import Glibc
import Testing
import MassivaConfig
import MassivaDatabase
import MassivaDomain
import MassivaMetrics
import MassivaProcessing
import MassivaRegistry
import MassivaStore
import MassivaSystem
import MassivaTestSupport

private typealias R = TestRegistry

/// The metrics: tallies kept by the database's triggers (they survive restarts and deleted
/// requests), the queue's gauges, registry outages, the drop-to-result latency, and the
/// reporter that writes the file beside the engine.
@Suite struct MetricsTests {
    func snapshot(_ f: EngineFixture, now: Double? = nil) throws -> MetricsSnapshot {
        try MetricsStore(database: f.database).snapshot(now: now ?? f.clock.now)
    }

    @Test func countersFollowFinalRequestsAndRowsAndSurviveDeletedRequests() throws {
        let f = try EngineFixture()
        let done = try f.submit("mixed.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "IT001E99999999;\(R.mome(2));Standard",
                                                     "XX001E00000001;\(R.mome(3));Standard"])
        #expect(try f.request(done.id).status == .done)
        try f.drop("empty.csv", text: "")                          // rejected as a whole, read
        #expect(mkfifo(f.layout.incoming("acme") + "/fifo.csv", 0o644) == 0)  // refused unread
        try f.runUntilIdle()
        _ = try f.submit("voltaic.csv", rows: ["\(R.ok2);\(R.voltaic1);Standard"], tenant: "voltaic")
        // A queued request cancelled, then cancelled again: counted once.
        let queued = try f.store.createRequest(tenant: "acme", fileName: "later.csv", configurator: "op", claimName: nil,
                                               content: Array("x".utf8), rejection: nil, now: f.clock.now)
        #expect(try f.store.cancel(queued, tenant: nil, now: f.clock.now) == .cancelled)
        _ = try f.store.cancel(queued, tenant: nil, now: f.clock.now)

        let m = try snapshot(f)
        #expect(m.requests[TenantKey("acme", .done)] == 1)
        #expect(m.requests[TenantKey("acme", .rejected)] == 2)
        #expect(m.requests[TenantKey("acme", .cancelled)] == 1)
        #expect(m.requests[TenantKey("voltaic", .done)] == 1)
        #expect(m.rows[TenantKey("acme", .ok)] == 1)
        #expect(m.rows[TenantKey("acme", .podNotFound)] == 1)
        #expect(m.rows[TenantKey("acme", .invalidPOD)] == 1)
        #expect(m.rows[TenantKey("voltaic", .ok)] == 1)
        #expect(m.refusedUploads == ["acme": 1])  // the FIFO; the empty file was read

        // A retention that deletes old requests (or a restart: another connection) leaves the
        // counters as they were.
        try f.database.execute("DELETE FROM rows; DELETE FROM requests")
        let again = try MetricsStore(database: try Schema.open(f.databaseLocation)).snapshot(now: f.clock.now)
        #expect(again.requests == m.requests)
        #expect(again.rows == m.rows)
        #expect(again.refusedUploads == m.refusedUploads)
        #expect(again.queued == 0)
    }

    @Test func queueGaugesAndAges() throws {
        let f = try EngineFixture()
        let start = f.clock.now
        let waiting = try f.submit("wait.csv", rows: ["\(R.unreachable);\(R.mome(1));Standard", "\(R.ok1);\(R.mome(2));Standard"])
        #expect(try f.request(waiting.id).status == .processing)
        f.clock.advance(by: 3)
        let queued = try f.store.createRequest(tenant: "acme", fileName: "q.csv", configurator: "op", claimName: nil,
                                               content: Array("x".utf8), rejection: nil, now: f.clock.now)
        var m = try snapshot(f, now: start + 7)
        #expect(m.queued == 1 && m.processing == 1 && m.waitingRows == 1)
        #expect(m.oldestQueuedAt == start + 3)
        #expect(m.oldestWaitingSince == start)         // its last try
        #expect(m.dueRequests == 0)                    // its retry is 10 s after the try
        m = try snapshot(f, now: start + f.configuration.minimalBackoffTime)
        #expect(m.dueRequests == 1)
        _ = try f.store.cancel(queued, tenant: nil, now: f.clock.now)
        #expect(try snapshot(f).oldestQueuedAt == nil)
    }

    @Test func aTenantsRunOfRejectedRequests() throws {
        let f = try EngineFixture()
        _ = try f.submit("good.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])
        for i in 0..<3 { try f.drop("bad\(i).csv", text: "") }
        try f.runUntilIdle()
        var m = try snapshot(f)
        #expect(m.rejectedRun == ["acme": 3, "voltaic": 0])
        _ = try f.submit("good2.csv", rows: ["\(R.ok2);\(R.mome(2));Standard"])
        m = try snapshot(f)
        #expect(m.rejectedRun["acme"] == 0)
    }

    @Test func registryOutagesAreRecordedOncePerOutageAndClosedAfterARestart() throws {
        let f = try EngineFixture { $0.outageMinimalBackoffTime = 5; $0.outageMaximalBackoffTime = 5 }
        let registry = SwitchableRegistry(f.registry)
        let clock = f.clock
        func engine() throws -> Engine {
            try Engine(configuration: f.configuration, store: f.store, registry: registry, log: f.engine.log, clock: { clock.now })
        }
        let first = try engine()
        registry.down = true
        try f.drop("a.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        let start = clock.now
        try first.runUntilIdle()
        for _ in 0..<3 { clock.advance(by: 5); try first.runUntilIdle() }  // the same outage, tried again
        var m = try snapshot(f)
        #expect(m.registryOutages == 1 && m.registryOutageInProgress)
        #expect(m.registryOutageStartedAt == start)
        #expect(m.registryOutageSeconds == 0)  // counted when it ends: a counter never goes down
        registry.down = false
        clock.advance(by: 5)
        try first.runUntilIdle()
        m = try snapshot(f, now: clock.now + 100)
        #expect(m.registryOutages == 1 && !m.registryOutageInProgress)
        #expect(m.registryOutageSeconds == clock.now - start)

        // Down again, and the daemon restarts during the outage: the new engine's first answered
        // request closes it; there is still one outage more, not two.
        registry.down = true
        try f.drop("b.csv", text: EngineFixture.bulk(["\(R.ok2);\(R.mome(2));Standard"]))
        clock.advance(by: 10)
        try first.runUntilIdle()
        #expect(try snapshot(f).registryOutageInProgress)
        let restarted = try engine()
        try restarted.runUntilIdle()
        #expect(try snapshot(f).registryOutages == 2)
        registry.down = false
        clock.advance(by: 10)
        try restarted.runUntilIdle()
        m = try snapshot(f)
        #expect(m.registryOutages == 2 && !m.registryOutageInProgress)
    }

    @Test func dropToResultLatencyStartsAtTheUploadsModificationTime() throws {
        let f = try EngineFixture()
        let path = try f.drop("old.csv", text: EngineFixture.bulk(["\(R.ok1);\(R.mome(1));Standard"]))
        // Uploaded 20 s ago on the test's clock, which stamps the result too.
        try FileSystem.setModificationTime(path, to: f.clock.now - 20)
        try f.runUntilIdle()
        let m = try snapshot(f)
        let index30 = try #require(MetricsSnapshot.latencyBounds.firstIndex(of: 30))
        var expected = Array(repeating: 0, count: MetricsSnapshot.latencyBounds.count + 1)
        expected[index30] = 1
        #expect(m.latencyBuckets == expected)
        #expect(m.latencySum == 20)
        // Written again (a note after it was done): still one request measured.
        let id = try #require(try f.store.requests(tenant: nil).first?.id)
        #expect(try f.store.cancel(id, tenant: nil, now: f.clock.now) == .notQueued(.done))
        try f.runUntilIdle()
        #expect(try snapshot(f).latencyBuckets == expected)
    }

    /// The trigger's buckets (SQL) and `latencyBounds` (Swift) are one list: a latency in the
    /// middle of each bucket, and one past the last, lands where Swift says it does.
    @Test func theTriggersBucketsAreTheBoundsSwiftShows() throws {
        let f = try EngineFixture()
        let bounds = MetricsSnapshot.latencyBounds
        let values = zip([0] + bounds, bounds).map { ($0 + $1) / 2 } + [bounds.last! * 2]
        var expected = Array(repeating: 0, count: bounds.count + 1)
        for value in values {
            let id = try f.store.createRequest(tenant: "acme", fileName: "x.csv", configurator: "op", claimName: nil, content: nil,
                                               rejection: .tenantDisabled, now: f.clock.now, droppedAt: f.clock.now - value)
            try f.store.markResultsWritten(id, version: 1, now: f.clock.now)
            // The latency as the trigger measured it: the store was given the result's time (equal
            // to the value up to the doubles' rounding of times near 2e9 s, a few 1e-7 s).
            let measured = try #require(try f.database.queryOne("SELECT result_at - dropped_at FROM requests WHERE id = ?",
                                                                [.int(id.number)]) { $0.double(0) })
            #expect(abs(measured - value) < 1e-6)
            expected[bounds.firstIndex { measured <= $0 } ?? bounds.count] += 1
        }
        let m = try snapshot(f)
        #expect(m.latencyBuckets == expected)
        #expect(m.latencyBuckets.allSatisfy { $0 == 1 })
    }

    /// With `association_command`, every association made waits in the outbox until the command
    /// takes it: one that refuses every event (`/bin/false`) leaves them all there.
    @Test func theOutboxDepthAndItsOldestEvent() throws {
        let f = try EngineFixture { c in
            c.associationCommand = try? CommandTemplate.parse("/bin/false ${key}", placeholders: CommandTemplate.associationPlaceholders).get()
        }
        #expect(try snapshot(f).outboxDepth == 0)
        _ = try f.submit("two.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "\(R.ok2);\(R.mome(2));Standard"])
        let m = try snapshot(f)
        #expect(m.outboxDepth == 2)
        let oldest = try #require(m.outboxOldestAt)
        #expect(abs(oldest - f.clock.now) < 1)
    }

    @Test func anUnknownTallyIsAnErrorNotSkipped() throws {
        let f = try EngineFixture()
        try f.database.execute("INSERT INTO metric_counts(metric, tenant, key, value) VALUES('rows', 'acme', 'NOT_A_CODE', 1)")
        #expect(throws: RecordError.self) { _ = try snapshot(f) }
    }

    // MARK: The reporter

    func reporter(_ f: EngineFixture, path: String, minimalInterval: Double = 5, process: ProcessMetrics = ProcessMetrics(startTime: 0),
                  clock: FakeClock? = nil) -> MetricsReporter {
        MetricsReporter(path: path, database: f.databaseLocation, maximalBackoff: f.configuration.maximalBackoffTime,
                        log: f.engine.log, process: process, clock: (clock ?? f.clock).clock, minimalInterval: minimalInterval,
                        heartbeat: 0)
    }

    @Test func theFileIsReplacedWholeWithMode0644AndNoTemporaryLeft() throws {
        let f = try EngineFixture()
        let folder = f.root + "/textfile"
        try FileSystem.makeDirectory(folder)
        let process = ProcessMetrics(startTime: 1_700_000_000)
        process.version = "9.9.9"
        let r = reporter(f, path: folder + "/massiva.prom", process: process)
        f.engine.metrics = r
        _ = try f.submit("one.csv", rows: ["\(R.ok1);\(R.mome(1));Standard", "IT001E99999999;\(R.mome(2));Standard"])
        #expect(r.writeNow())
        let text = try String(contentsOfFile: folder + "/massiva.prom", encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in ["massiva_build_info{version=\"9.9.9\"} 1", "massiva_start_time_seconds 1700000000",
                         "massiva_requests_total{tenant=\"acme\",status=\"done\"} 1",
                         "massiva_requests_total{tenant=\"voltaic\",status=\"done\"} 0",
                         "massiva_rows_total{tenant=\"acme\",code=\"OK\"} 1",
                         "massiva_rows_total{tenant=\"acme\",code=\"POD_NOT_FOUND\"} 1",
                         "massiva_queued_requests 0", "massiva_maximal_backoff_seconds 40",
                         "# TYPE massiva_pass_duration_seconds histogram", "massiva_drop_to_result_seconds_count 1"] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        // The engine's passes reached the process figures through the reporter.
        let passes = try #require(lines.first { $0.hasPrefix("massiva_pass_duration_seconds_count ") })
        #expect(Int(passes.split(separator: " ")[1])! >= 1)
        #expect(!lines.contains("massiva_last_successful_pass_timestamp_seconds 0"))
        #expect(try FileStatus.of(folder + "/massiva.prom").permissions & 0o777 == 0o644)
        #expect(try FileSystem.listDirectory(folder) == ["massiva.prom"])
    }

    @Test func aFailedWriteIsLoggedOnceAndNeverStopsTheEngine() throws {
        let f = try EngineFixture()
        let folder = f.root + "/not-yet"
        let r = reporter(f, path: folder + "/massiva.prom", minimalInterval: 0)
        f.engine.metrics = r
        #expect(!r.writeNow())
        #expect(!r.writeNow())
        _ = try f.submit("one.csv", rows: ["\(R.ok1);\(R.mome(1));Standard"])  // passes go on
        #expect(!r.writeNow())
        #expect(f.logged.events("metrics_write_failed").count == 1)
        try FileSystem.makeDirectory(folder)
        #expect(r.writeNow())
        #expect(f.logged.events("metrics_written").count == 1)
        #expect(FileSystem.exists(folder + "/massiva.prom"))
    }

    @Test func passesAskForWritesWithoutWaitingAndAtMostEveryInterval() throws {
        let f = try EngineFixture()
        let folder = f.root + "/textfile"
        try FileSystem.makeDirectory(folder)
        let clock = FakeClock(f.clock.now)
        let r = reporter(f, path: folder + "/massiva.prom", minimalInterval: 0.25, clock: clock)
        // A second of passes, one each 1/1024 s of the reporter's clock (binary fractions: the
        // sums are exact). A write runs only when the clock reaches its time (on the reporter's
        // queue, while the test waits), so a pass that waited for one would find it done when
        // it returns: none does.
        var writesByTime: [Double: Int] = [:]
        for step in 0..<1024 {
            let before = r.writes
            r.passEnded(duration: 0.001, now: clock.now)
            #expect(r.writes == before, "a pass waited for a write at step \(step)")
            clock.advance(by: 1.0 / 1024)
            if r.writes > before { writesByTime[(clock.monotonic * 1000).rounded() / 1000, default: 0] += r.writes - before }
        }
        #expect(clock.pendingTimers == 0)
        r.writeNow()
        // One at once (asked at 0, run as the clock moved on), then one each 0.25 s, and the
        // final writeNow.
        #expect(writesByTime == [0.001: 1, 0.25: 1, 0.5: 1, 0.75: 1, 1.0: 1], "writes at: \(writesByTime)")
        #expect(r.writes == 6)
    }

    @Test func prometheusTextEscapesAndSpellsValues() {
        var t = PrometheusText()
        t.family("x_total", .counter, "a \\ b\nc")
        t.sample("x_total", ["tenant": "a\"b\\c\nd"], 1.5)
        t.histogram("h", bounds: [0.5, 1], counts: [1, 0, 2], sum: 3.25)
        #expect(t.text == """
            # HELP x_total a \\\\ b\\nc
            # TYPE x_total counter
            x_total{tenant="a\\"b\\\\c\\nd"} 1.5
            h_bucket{le="0.5"} 1
            h_bucket{le="1"} 1
            h_bucket{le="+Inf"} 3
            h_sum 3.25
            h_count 3

            """)
    }
}
