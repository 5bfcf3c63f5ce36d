import Dispatch
import Foundation
import Glibc
import Testing
import MassivaConfig
import MassivaDomain
import MassivaMetrics
import MassivaStore
import MassivaSystem
import Synchronization
import MassivaTestSupport
@testable import MassivaProcessing

/// A fair share for every SI (issue 19): work taken round-robin between tenants, probe slots
/// shared, a tenant's backlog never holding up another's one row.
@Suite struct FairnessTests {
    typealias R = TestRegistry

    // MARK: The store's round-robin

    /// `n` queued requests of `tenant`, recorded now (ids in the order of the calls).
    static func queue(_ f: EngineFixture, _ tenant: String, _ n: Int) throws -> [RequestID] {
        try (0..<n).map { i in
            try f.store.createRequest(tenant: tenant, fileName: "\(tenant)-\(i).csv", configurator: "c", claimName: nil,
                                      content: [], rejection: nil, now: f.clock.now)
        }
    }

    @Test func queuedRequestsAreTakenOneTurnPerTenant() throws {
        let f = try EngineFixture()
        try f.addTenant("zeta")
        let acme = try Self.queue(f, "acme", 4)
        let voltaic = try Self.queue(f, "voltaic", 2)
        let zeta = try Self.queue(f, "zeta", 1)
        let more = try Self.queue(f, "acme", 1)
        #expect(try f.store.queuedRequestsFairly(limit: 100)
                == [acme[0], voltaic[0], zeta[0], acme[1], voltaic[1], acme[2], acme[3], more[0]])
        #expect(try f.store.queuedRequestsFairly(limit: 4) == [acme[0], voltaic[0], zeta[0], acme[1]])
        // Taken (no longer queued): the next ones move up a turn.
        try f.store.setStatus(acme[0], .processing, now: f.clock.now)
        try f.store.setStatus(voltaic[0], .done, now: f.clock.now)
        #expect(try f.store.queuedRequestsFairly(limit: 3) == [acme[1], voltaic[1], zeta[0]])
        #expect(try f.store.queuedRequestsByTenant() == ["acme": 4, "voltaic": 1, "zeta": 1])
    }

    @Test func retriesDueAreTakenOneTurnPerTenantEarliestDueFirst() throws {
        let f = try EngineFixture()
        let acme = try Self.queue(f, "acme", 3)
        let voltaic = try Self.queue(f, "voltaic", 2)
        let now = f.clock.now
        for (id, due) in [(acme[0], now - 5), (acme[1], now - 9), (acme[2], now - 1), (voltaic[0], now - 2), (voltaic[1], now + 60)] {
            try f.store.setStatus(id, .processing, now: now)
            try f.store.makeDueNow(id, now: due)
        }
        #expect(try f.store.dueRequestsFairly(now: now, limit: 10) == [acme[1], voltaic[0], acme[0], acme[2]])
        #expect(try f.store.dueRequestsFairly(now: now, limit: 2) == [acme[1], voltaic[0]])
    }

    /// Queued requests and retries together: each tenant's in the order it became workable.
    @Test func pendingWorkMixesFirstPassesAndRetriesFairly() throws {
        let f = try EngineFixture()
        let now = f.clock.now
        let acme = try Self.queue(f, "acme", 3)
        f.clock.advance(by: 10)
        let voltaic = try Self.queue(f, "voltaic", 2)
        try f.store.setStatus(acme[2], .processing, now: now)
        try f.store.makeDueNow(acme[2], now: now - 100)  // due before acme's queued ones were recorded
        let work = try f.store.pendingWorkFairly(now: f.clock.now, limit: 10)
        #expect(work == [PendingWork(id: acme[2], tenant: "acme", isRetry: true), PendingWork(id: voltaic[0], tenant: "voltaic", isRetry: false),
                         PendingWork(id: acme[0], tenant: "acme", isRetry: false), PendingWork(id: voltaic[1], tenant: "voltaic", isRetry: false),
                         PendingWork(id: acme[1], tenant: "acme", isRetry: false)])
    }

    /// Without `probe_command` too: a pass of two requests takes one of each tenant, not the
    /// two acme recorded first.
    @Test func aPassWithoutProbesServesEachTenantInTurn() throws {
        let f = try EngineFixture { $0.activeQueueLimit = 2 }
        try f.drop("a1.csv", text: EngineFixture.bulk(["\(R.bankPOD(1));\(R.bankSID(1));Standard"]))
        try f.drop("a2.csv", text: EngineFixture.bulk(["\(R.bankPOD(2));\(R.bankSID(2));Standard"]))
        try f.drop("v1.csv", text: EngineFixture.bulk(["\(R.ok2);\(R.voltaic1);Standard"]), tenant: "voltaic")
        let summary = try f.engine.pass()
        #expect(summary.processed == 2)
        let done = try f.store.requests(tenant: nil).filter { $0.status == .done }.map { "\($0.tenant)/\($0.fileName)" }
        #expect(done.sorted() == ["acme/a1.csv", "voltaic/v1.csv"])
    }

    // MARK: The probe scheduler's choice

    /// A tenant alone takes every slot; a newcomer gets the next slot that frees; then they
    /// alternate, the busy tenant held to its limit while the other has probes waiting.
    @Test func theSchedulerSharesSlotsAndNeverHoldsOneBack() throws {
        var s = FairProbeScheduler<String>(tenantLimit: 2)
        for i in 1...10 { s.enqueue("a\(i)", tenant: "alfa") }
        let first = (0..<4).compactMap { _ in s.next()?.job }
        #expect(first == ["a1", "a2", "a3", "a4"], "alone: every slot")
        s.enqueue("b1", tenant: "beta")
        s.enqueue("b2", tenant: "beta")
        s.enqueue("b3", tenant: "beta")
        s.finished(tenant: "alfa")
        #expect(s.next()?.job == "b1", "the first slot to free goes to beta")
        s.finished(tenant: "alfa")
        #expect(s.next()?.job == "b2", "alfa (3 running) is over its limit while beta waits")
        s.finished(tenant: "alfa")
        // alfa 1 running, beta 2 (at its limit): alfa's turn.
        #expect(s.next()?.job == "a5")
        s.finished(tenant: "beta")
        #expect(s.next()?.job == "b3")
        s.finished(tenant: "beta")
        #expect(s.next()?.job == "a6", "beta has nothing waiting: the slot is not held back")
        #expect(s.running(tenant: "alfa") == 3 && s.running(tenant: "beta") == 1)
        #expect(s.waiting(tenant: "alfa") == 4 && s.waiting == 4)
    }

    @Test func tenantsUnderTheirLimitAreServedRoundRobin() throws {
        var s = FairProbeScheduler<String>(tenantLimit: 100)
        for tenant in ["a", "b", "c"] { for i in 1...3 { s.enqueue("\(tenant)\(i)", tenant: tenant) } }
        s.enqueue("a4", tenant: "a")
        #expect((0..<11).compactMap { _ in s.next()?.job } == ["a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3", "a4"])
    }

    /// Many random steps (a fixed seed): a slot is never left idle while a probe waits, and a
    /// tenant at its limit never gets a slot while another under its limit has a probe waiting.
    @Test func noSlotIdleAndNoTenantOverItsLimitWhileAnotherWaits() throws {
        var s = FairProbeScheduler<Int>(tenantLimit: 3)
        let tenants = ["a", "b", "c", "d"]
        var running: [(tenant: String, job: Int)] = []
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func random(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        var job = 0
        let slots = 8
        for _ in 0..<5000 {
            switch random(3) {
            case 0:
                let tenant = tenants[random(tenants.count)]
                for _ in 0..<random(5) { s.enqueue(job, tenant: tenant); job += 1 }
            default:
                if !running.isEmpty {
                    let done = running.remove(at: random(running.count))
                    s.finished(tenant: done.tenant)
                }
            }
            while running.count < slots {
                let underLimitWaiting = tenants.filter { s.waiting(tenant: $0) > 0 && s.running(tenant: $0) < 3 }
                guard let next = s.next() else {
                    #expect(s.waiting == 0, "a slot idle while probes wait")
                    break
                }
                if !underLimitWaiting.isEmpty {
                    #expect(underLimitWaiting.contains(next.tenant), "\(next.tenant) chosen over \(underLimitWaiting)")
                }
                running.append((next.tenant, next.job))
            }
        }
    }

    // MARK: Real probes, held

    /// A FIFO each held probe of `tenant` opens and reads until the test lets go (`release`).
    final class Gate {
        let path: String
        init(_ path: String) throws {
            guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.EIO) }
            self.path = path
        }
        /// Lets every probe through: the ones blocked on the FIFO get its end of file, later
        /// ones find a plain empty file in its place.
        func release() throws {
            let writer = open(path, O_WRONLY)  // the held probes are its readers: no wait
            guard writer >= 0 else { throw POSIXError(.EIO) }
            let plain = path + ".plain"
            guard FileManager.default.createFile(atPath: plain, contents: Data()), rename(plain, path) == 0 else { throw POSIXError(.EIO) }
            close(writer)
        }
    }

    /// An engine whose probe_command holds acme's probes on a gate and answers every other
    /// tenant's at once; each acme probe first says it started on the FIFO `started`.
    static func heldFixture(concurrency: Int) throws -> (EngineFixture, Gate, String) {
        let f = try EngineFixture { c in
            let dir = c.spoolDirectory + "/.."
            c.probeCommand = try! CommandTemplate.parse("\(dir)/probe ${pod} ${tenant}", placeholders: CommandTemplate.probePlaceholders).get()
            c.probeConcurrency = concurrency
        }
        let started = f.root + "/started"
        guard mkfifo(started, 0o600) == 0 else { throw POSIXError(.EIO) }
        let gate = try Gate(f.root + "/gate")
        try """
            #!/bin/sh
            dir=$(dirname "$0")
            if [ "$2" = acme ]; then
                echo "$1" > "$dir/started"
                cat "$dir/gate" > /dev/null
            fi
            exit 0
            """.write(toFile: f.root + "/probe", atomically: true, encoding: .utf8)
        chmod(f.root + "/probe", 0o755)
        return (f, gate, started)
    }

    /// Runs one pass on its own thread; `finished` is signalled when it returns.
    static func passInBackground(_ f: EngineFixture) -> (DispatchSemaphore, () -> Engine.PassSummary?) {
        let finished = DispatchSemaphore(value: 0)
        let result = Mutex<Engine.PassSummary?>(nil)
        let engine = UncheckedBox(f.engine)
        try! SystemThread.detach {
            let summary = try? engine.value.pass()
            result.withLock { $0 = summary }
            finished.signal()
        }
        return (finished, { result.withLock { $0 } })
    }

    /// The FIFO acme's probes write their POD to as they start, held open for reading and
    /// writing by the test: a probe never waits to write, and each line read is one probe started.
    final class Signals {
        let fd: Int32
        init(_ path: String) throws {
            fd = open(path, O_RDWR)
            guard fd >= 0 else { throw POSIXError(.EIO) }
        }
        deinit { close(fd) }
        /// Waits until the next probe has started: its POD; or, when none starts within
        /// `timeout` seconds (the engine failed: a hang would hold the whole suite), a text no
        /// POD matches, so the test fails instead of waiting forever.
        func next(timeout: Double = 120) -> String {
            var line: [UInt8] = []
            var byte: UInt8 = 0
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
                let polled = poll(&ready, 1, left)
                if polled < 0 && errno == EINTR { continue }
                guard polled > 0 else { return "(no probe started within \(Int(timeout)) s)" }
                guard read(fd, &byte, 1) == 1 else { return "(the signal FIFO failed)" }
                if byte == 0x0A { break }
                line.append(byte)
            }
            return String(decoding: line, as: UTF8.self)
        }
    }

    /// acme's backlog fills what it can of two slots; voltaic's one row still gets one (the
    /// per-tenant limit: one each), and its request commits while acme's probes are held.
    /// (Before: the first two of acme's six probes took both slots, in the requests' order.)
    @Test func aTenantsOneRowIsDoneWhileAnotherTenantsProbesAreHeld() throws {
        let (f, gate, started) = try Self.heldFixture(concurrency: 2)
        for i in 0..<3 {
            try f.drop("a\(i).csv", text: EngineFixture.bulk([0, 1].map { "\(R.bankPOD(i * 2 + $0));\(R.bankSID(i * 2 + $0));Standard" }))
        }
        try f.drop("v.csv", text: EngineFixture.bulk(["\(R.ok2);\(R.voltaic1);Standard"]), tenant: "voltaic")
        let signals = try Signals(started)
        let (finished, summary) = Self.passInBackground(f)
        // acme's first probe takes one slot, voltaic's the other; when voltaic's ends, acme's
        // second takes its slot (none is held back). Two shells then race to the FIFO: either
        // of acme's first two PODs may say it started first.
        let first = signals.next()
        #expect([R.bankPOD(0), R.bankPOD(1)].contains(first), "acme's first probe is held: \(first)")
        #expect(f.logged.wait { $0.hasPrefix("done ") && $0.contains("tenant=voltaic") }, "voltaic's request done")
        #expect(!f.logged.lines.contains { $0.hasPrefix("done ") && $0.contains("tenant=acme") }, "while acme's are held")
        try gate.release()
        #expect(finished.wait(timeout: .now() + 120) == .success, "the pass returned")
        #expect(summary()?.processed == 4)
        let requests = try f.store.requests(tenant: nil)
        #expect(requests.map(\.status) == Array(repeating: .done, count: 4))
        #expect(try requests.flatMap { try f.store.rows(of: $0.id) }.map(\.attempts) == Array(repeating: 1, count: 7))
        // Committed in the order their answers came: voltaic's (recorded last) first.
        let done = f.logged.events("done").map { $0.contains("tenant=voltaic") ? "voltaic" : "acme" }
        #expect(done.first == "voltaic")
    }

    /// An upload recorded while probes run joins them: acme's two probes hold two of four
    /// slots, voltaic's file comes meanwhile (the intake looks about every second of the
    /// engine's clock), takes a free slot and is done before acme's request.
    @Test func anUploadRecordedWhileProbesRunJoinsThem() throws {
        let (f, gate, started) = try Self.heldFixture(concurrency: 4)
        try f.drop("a.csv", text: EngineFixture.bulk([0, 1].map { "\(R.bankPOD($0));\(R.bankSID($0));Standard" }))
        let signals = try Signals(started)
        let (finished, summary) = Self.passInBackground(f)
        #expect(Set([signals.next(), signals.next()]) == [R.bankPOD(0), R.bankPOD(1)], "both acme probes held")
        try f.drop("v.csv", text: EngineFixture.bulk(["\(R.ok2);\(R.voltaic1);Standard"]), tenant: "voltaic")
        f.clock.advance(by: 2)
        #expect(f.logged.wait { $0.hasPrefix("done ") && $0.contains("tenant=voltaic") }, "voltaic's request done")
        #expect(!f.logged.lines.contains { $0.hasPrefix("done ") && $0.contains("tenant=acme") })
        try gate.release()
        #expect(finished.wait(timeout: .now() + 120) == .success, "the pass returned")
        #expect(summary()?.processed == 2)
        #expect(try f.store.requests(tenant: nil).map(\.status) == [.done, .done])
    }

    // MARK: tenant_queue_limit

    @Test func uploadsBeyondTheQueueLimitWaitInIncomingWithANotice() throws {
        let f = try EngineFixture { $0.tenantQueueLimit = 2 }
        for i in 0..<5 { try f.drop("f\(i).csv", text: EngineFixture.bulk(["\(R.bankPOD(i));\(R.bankSID(i));Standard"])) }
        let notice = f.layout.results("acme") + "/" + QueueNotice.fileName
        _ = try f.engine.scanUploads()
        #expect(try f.store.queuedRequestsByTenant() == ["acme": 2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.layout.incoming("acme")).sorted() == ["f2.csv", "f3.csv", "f4.csv"])
        let text = try String(contentsOfFile: notice, encoding: .utf8)
        #expect(text.contains("avete 2 richieste in attesa di lavorazione, il massimo consentito è 2"))
        #expect(text.contains("3 file caricati restano nella cartella incoming/"))
        #expect(f.logged.events("tenant_queue_full").count == 1)
        #expect(!FileManager.default.fileExists(atPath: f.layout.results("voltaic") + "/" + QueueNotice.fileName))

        // At the limit a cancellation still goes through, and makes room for one more.
        let first = try #require(try f.store.queuedRequestsFairly(limit: 1).first)
        try f.drop("\(first).cancel", text: "")
        _ = try f.engine.scanUploads()
        #expect(try f.store.request(first)?.status == .cancelled)
        #expect(try f.store.queuedRequestsByTenant() == ["acme": 1])
        _ = try f.engine.scanUploads()
        #expect(try f.store.queuedRequestsByTenant() == ["acme": 2])
        #expect(try String(contentsOfFile: notice, encoding: .utf8).contains("2 file caricati restano"))

        try f.runUntilIdle()
        #expect(try f.store.requests(tenant: "acme").filter { $0.status == .done }.count == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.layout.incoming("acme")).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: notice), "removed once nothing waits for room")
        #expect(f.logged.events("tenant_queue_open").count == 1)
    }

    @Test func theMetricsShowEachTenantsQueueAndThoseAtTheirLimit() throws {
        let f = try EngineFixture()
        _ = try Self.queue(f, "acme", 2)
        _ = try Self.queue(f, "voltaic", 1)
        let path = f.root + "/massiva.prom"
        let r = MetricsReporter(path: path, database: f.databaseLocation, maximalBackoff: 40, tenantQueueLimit: 2,
                                log: f.engine.log, process: ProcessMetrics(startTime: 0), clock: f.clock.clock, heartbeat: 0)
        #expect(r.writeNow())
        let lines = Set(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init))
        for expected in ["massiva_tenant_queued_requests{tenant=\"acme\"} 2", "massiva_tenant_queued_requests{tenant=\"voltaic\"} 1",
                         "massiva_tenant_queue_full{tenant=\"acme\"} 1", "massiva_tenant_queue_full{tenant=\"voltaic\"} 0"] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
    }

    @Test func theTenantLimitsDefaults() throws {
        #expect(Configuration.defaults.tenantQueueLimit == 1000)
        #expect(Configuration.defaults.effectiveTenantProbeConcurrency == 8)
        #expect(Configuration(probeConcurrency: 1).effectiveTenantProbeConcurrency == 1)
        #expect(Configuration(probeConcurrency: 5).effectiveTenantProbeConcurrency == 2)
        #expect(Configuration(probeConcurrency: 4, tenantProbeConcurrency: 9).effectiveTenantProbeConcurrency == 4)
        let parsed = try Configuration.parse("tenant_probe_concurrency = 3\ntenant_queue_limit = 50\n", source: "m.cf", relativeTo: "/")
        #expect(parsed.effectiveTenantProbeConcurrency == 3 && parsed.tenantQueueLimit == 50)
        #expect(parsed.lines(onlyNonDefault: true).contains("tenant_queue_limit = 50"))
        #expect(throws: ConfigurationError.self) { try Configuration.parse("tenant_queue_limit = 0", source: "m.cf", relativeTo: "/") }
    }
}

/// A value handed to another thread by a test that knows it is not used on two at once.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
