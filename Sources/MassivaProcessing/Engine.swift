import MassivaDatabase
import MassivaConfig
import MassivaDomain
import MassivaMetrics
import MassivaRegistry
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem

/// The whole pipeline over one spool: intake, first passes, retries, result files.
///
/// `serve --once` calls `runUntilIdle`; the daemon calls `pass` whenever something may be due.
/// Work is taken from the database in chunks, so a backlog of any size keeps memory bounded
/// (the active set of Postfix's queue manager).
///
/// Its parts, a file each: the pass (here), the groups of requests and what the registry's
/// answers do to them (`Engine+Groups`), the outage backoff (`OutageGate`), start-up recovery
/// (`Engine+Recovery`), the probes shared fairly between tenants (`Engine+FairProbing`,
/// `FairProbeBatch`, `FairProbeScheduler`), the tenants' backlog limit (`Engine+TenantQueue`), and three threads of their own: result files
/// (`ResultPipeline`), the tenants' lists and retention (`ListWriter`), the outbox
/// (`OutboxCourier`).
public final class Engine {
    public let configuration: Configuration
    public let layout: SpoolLayout
    public let store: StateStore
    public let registry: any Registry
    public let intake: Intake
    public let processor: RequestProcessor
    public let results: ResultWriter
    public let log: EventLog
    /// The time every decision is dated with (seconds since 1970; a test's fake clock).
    public let clock: @Sendable () -> Double
    /// Seconds on a clock that never jumps, for how long a pass took (the metrics).
    public let monotonicClock: @Sendable () -> Double

    /// Whether requests are processed now, or the registry is given time to come back.
    public internal(set) var outageGate: OutageGate
    /// While the registry is down: when to try again.
    public var registryPausedUntil: Double? { outageGate.pausedUntil }

    /// Checked between requests: a daemon asked to stop finishes the request in hand only.
    public var shouldStop: () -> Bool = { false }
    /// Called about every quarter second while a pass waits for probes (the daemon's watchdog).
    public var heartbeat: () -> Void = {}
    /// `probe_command`, run in parallel before each request's pass; nil: the registry probes.
    public let commandProbe: CommandProbe?
    /// The most probes at once (`probe_concurrency`).
    public var probeConcurrency: Int
    /// The most probes of one tenant at once while another's wait (`tenant_probe_concurrency`).
    public var tenantProbeConcurrency: Int
    /// The outbox of association events, when `association_command` is set, and the courier
    /// that delivers them (on its own thread and connection).
    public let outbox: Outbox?
    public let courier: OutboxCourier?
    /// How many requests one pass takes at most per step, and uploads per tenant:
    /// `active_queue_limit`, as configured.
    public var chunkSize: Int
    /// The least time between two writes of associazioni.csv while requests keep coming (the
    /// list writer also waits ten times what the last write took).
    public var associationListInterval: Double {
        get { lists.associationListInterval }
        set { lists.associationListInterval = newValue }
    }
    /// Requests committed together: each request's pass is a savepoint (undone alone if it
    /// fails), and the group is one transaction, so the commit's cost is shared. A crash loses
    /// at most the group's work, which the next pass does again.
    ///
    /// Eight on SQLite; 32 on PostgreSQL, where a group's reads are read ahead at once and its
    /// COMMIT waits for the writes sent behind (`runBehind`): each group has a start and an end
    /// in which the server or this thread waits for the other. scripts/bench 1000: 145 and 151
    /// requests/s with 32 against 109-147 with 8 (docs/performance.md#on-postgresql).
    public var groupSize: Int
    /// PostgreSQL: the groups committed with their writes sent behind (`runBehind`), and those
    /// rolled back to be run again the usual way (a request or the database failed in them).
    public internal(set) var groupsRunBehind = 0
    public internal(set) var groupsRunAgain = 0
    /// The lease's fence of the daemon this engine works for (nil: no lease, a test's engine):
    /// every transaction on the engine's connections checks it (`LeaderFence`), and no upload is
    /// claimed, no probe started, no event delivered while this node does not trust its lease.
    public let fence: LeaderFence?
    /// The metrics file's writer (`metrics_file`), told of each pass that did not fail; `serve`
    /// sets it, other commands leave it nil.
    public var metrics: MetricsReporter?
    /// What SIs at their `tenant_queue_limit` are told (`scanUploads`).
    lazy var queueNotice = QueueNotice(layout: layout, log: log)

    /// Result files are written on a second thread while requests are processed.
    let pipeline: ResultPipeline
    /// The tenants' lists and retention, on a third thread; at start-up and at the end of
    /// `serve --once`, on this one's connection (`listConnection`).
    let lists: ListWriter
    let listConnection: ListWriter.Connection
    /// `serve --once`: no list written until the passes are done.
    var listsAtTheEndOnly = false
    /// When the uploads were last claimed (a pass, or a long wait for probes).
    private var uploadsClaimedAt = -Double.infinity

    /// Opens the engine's own connections (result files, lists, and the outbox's courier when
    /// `association_command` is set) to the database at `store.databaseLocation`; throws when one
    /// cannot be opened, rather than run without it.
    public init(configuration: Configuration, store: StateStore, registry: any Registry, log: EventLog,
                policy: ProcessingPolicy? = nil, clock: @escaping @Sendable () -> Double,
                monotonicClock: @escaping @Sendable () -> Double = { SystemClock.monotonic }, fence: LeaderFence? = nil) throws {
        self.fence = fence
        if let fence { store.install(fence) }
        self.groupSize = store.database.engine == .postgresql ? 32 : 8
        self.configuration = configuration
        self.layout = SpoolLayout(root: configuration.spoolDirectory)
        self.store = store
        self.registry = registry
        self.log = log
        self.clock = clock
        self.monotonicClock = monotonicClock
        self.outageGate = OutageGate(backoff: Backoff(minimal: configuration.outageMinimalBackoffTime,
                                                      maximal: configuration.outageMaximalBackoffTime))
        self.intake = Intake(layout: layout, store: store, settleTime: configuration.settleTime, resumeTime: configuration.resumeTime,
                             maxFileSize: configuration.maxFileSize, maxRows: configuration.maxRows, log: log)
        self.intake.duplicateUploadWindow = configuration.duplicateUploadWindow
        if let fence { self.intake.mayClaim = { fence.isTrusted } }
        self.commandProbe = CommandProbe(configuration, log: log)
        self.probeConcurrency = configuration.probeConcurrency
        self.tenantProbeConcurrency = configuration.effectiveTenantProbeConcurrency
        self.outbox = configuration.associationCommand == nil ? nil : store.outbox()
        self.processor = RequestProcessor(store: store, registry: registry, policy: policy ?? ProcessingPolicy(configuration),
                                          outbox: outbox)
        self.results = ResultWriter(layout: layout, store: store, files: ResultFiles(encoding: configuration.resultsEncoding.csv),
                                     clock: clock)
        self.chunkSize = max(1, configuration.activeQueueLimit)
        self.courier = try OutboxCourier(configuration: configuration, database: store.databaseLocation, log: log, clock: clock,
                                         fence: fence)
        self.pipeline = try ResultPipeline(layout: layout, database: store.databaseLocation, files: results.files, chunk: 32,
                                           fence: fence)
        self.listConnection = try ListWriter.Connection(writer: results)
        self.lists = try ListWriter(layout: layout, database: store.databaseLocation, files: results.files,
                                    retention: configuration.resultRetention, log: log, clock: clock, fence: fence)
    }

    /// What a pass did, and when something is due next.
    public struct PassSummary: Sendable, Equatable {
        public var recorded = 0
        public var processed = 0
        public var retried = 0
        public var refreshed = 0
        /// Earliest time an upload settles, a retry falls due, or the registry may be back.
        public var nextWakeAt: Double?

        public var didWork: Bool { recorded + processed + retried + refreshed > 0 }
    }

    /// One round over everything due now.
    public func pass() throws -> PassSummary {
        let started = monotonicClock()
        let summary = try passSteps()
        metrics?.passEnded(duration: monotonicClock() - started, now: clock())
        return summary
    }

    private func passSteps() throws -> PassSummary {
        var summary = PassSummary()
        var wake: [Double?] = []
        let scan = try scanUploads()
        summary.recorded += scan.recorded
        wake.append(scan.nextSettleAt)
        uploadsClaimedAt = clock()
        if commandProbe != nil {
            if isRegistryAvailable() {
                let work = try runFairly()
                summary.processed += work.processed
                summary.retried += work.retried
            }
        } else {
            if isRegistryAvailable() {
                summary.processed += try runGrouped(try store.queuedRequestsFairly(limit: chunkSize), readingAhead: true) { id in
                    try processor.processQueued(id, now: clock())
                }
            }
            if isRegistryAvailable() {
                let now = clock()
                summary.retried += try runGrouped(try store.dueRequestsFairly(now: now, limit: chunkSize)) { id in
                    try processor.retryDue(id, now: clock(), dueBy: now)
                }
            }
        }
        if summary.processed + summary.retried > 0 {
            // More work may follow at once: let the result thread catch up meanwhile rather
            // than wait for it; the pass that finds nothing to process brings it up to date.
            try pipeline.record(on: results)
            pipeline.schedule()
            summary.refreshed += 1  // the files of this pass's requests are still to be written
        } else {
            try pipeline.drain(recordingOn: results)
            while !shouldStop() {
                let n = try results.refreshFiles(limit: chunkSize)
                summary.refreshed += n
                if n == 0 { break }
            }
        }
        if !listsAtTheEndOnly { lists.schedule() }
        courier?.schedule()  // new events, also from commands (associate, dissociate)
        wake.append(try store.nextDueTime())
        wake.append(registryPausedUntil)
        summary.nextWakeAt = wake.compactMap { $0 }.min()
        return summary
    }

    /// Passes until nothing more is due now (`serve --once`).
    public func runUntilIdle() throws {
        // A batch: the lists are written once, at the end (`finishLists`), not while the
        // passes run. Written meanwhile they took up to a fifth of a core on a 2-core machine
        // (bench-scale, history 5,000: serve --once at 254-570 requests/s against 209-535 empty).
        listsAtTheEndOnly = true
        defer { listsAtTheEndOnly = false }
        try recover()
        while true {
            let summary = try pass()
            if !summary.didWork { break }
        }
        try finishLists()
        // The events of this run, and those due from before: each tried once more now.
        courier?.deliverNow()
        courier?.stop(grace: .infinity)
    }

    /// Brings every list up to date and applies retention, now: the end of `serve --once`.
    public func finishLists() throws {
        try lists.finish(on: listConnection, limit: chunkSize, shouldStop: shouldStop)
        courier?.schedule()  // events left by the last run
    }

    func isRegistryAvailable() -> Bool {
        outageGate.isOpen(at: clock())
    }

    /// While a pass waits for probes (on this queue, outside any transaction), about every
    /// quarter second: the daemon's heartbeat, and about every second the uploads that settled
    /// meanwhile are claimed and recorded, so a long round of probes does not leave SIs' files
    /// waiting in `incoming/` (they join the probes running: `runFairly`). Returns true when it
    /// looked (about every second): work may have come, uploads or retries fallen due.
    /// Meanwhile too, the result files written since are recorded (their `result_at`: the
    /// drop-to-result latency), and the lists and the outbox's courier are asked to catch up.
    func whileProbing() -> Bool {
        heartbeat()
        do {
            try pipeline.record(on: results)
        } catch {
            log.log("results_unrecorded", ["error": "\(error)"])  // the next commit records them
        }
        guard clock() - uploadsClaimedAt >= 1 else { return false }
        uploadsClaimedAt = clock()
        if !listsAtTheEndOnly { lists.schedule() }
        courier?.schedule()
        do {
            _ = try scanUploads()
        } catch {
            log.log("intake_deferred", ["error": "\(error)"])  // the next pass scans again
        }
        return true
    }
}
