import MassivaConfig
import MassivaDatabase
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
public final class Engine {
    public let configuration: Configuration
    public let layout: SpoolLayout
    public let store: StateStore
    public let registry: any Registry
    public let intake: Intake
    public let processor: RequestProcessor
    public let results: ResultWriter
    public let log: EventLog
    public let clock: @Sendable () -> Double

    /// While the registry is down: when to try again, and how many outages in a row.
    public private(set) var registryPausedUntil: Double?
    private var consecutiveOutages = 0

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
    /// When the associazioni.csv lists were last written (without a `ListWriter` only): while
    /// requests keep coming they are rewritten at most every `associationListInterval` seconds.
    private var associationListsWrittenAt = -Double.infinity
    public var associationListInterval = 5.0 {
        didSet { lists?.associationListInterval = associationListInterval }
    }
    /// Result files are written on a second thread while requests are processed.
    let pipeline: ResultPipeline?
    /// The tenants' lists and retention, on a third thread (with the embedded registry; a
    /// registry of another kind, such as a test's wrapper, has them written on this thread).
    private let lists: ListWriter?
    /// `serve --once`: no list written until the passes are done.
    private var listsAtTheEndOnly = false
    /// The metrics file's writer (`metrics_file`), told of each pass that did not fail; `serve`
    /// sets it, other commands leave it nil.
    public var metrics: MetricsReporter?
    /// What SIs at their `tenant_queue_limit` are told (`scanUploads`).
    lazy var queueNotice = QueueNotice(layout: layout, log: log)
    /// An outage recorded before this engine (a restart, a reload) may still be open: the first
    /// request the registry answers closes it.
    private var outageMayBeOpen = true

    public init(configuration: Configuration, store: StateStore, registry: any Registry, log: EventLog,
                policy: ProcessingPolicy? = nil, clock: @escaping @Sendable () -> Double = { SystemClock.now }) {
        self.configuration = configuration
        self.layout = SpoolLayout(root: configuration.spoolDirectory)
        self.store = store
        self.registry = registry
        self.log = log
        self.clock = clock
        self.intake = Intake(layout: layout, store: store, settleTime: configuration.settleTime,
                             maxFileSize: configuration.maxFileSize, maxRows: configuration.maxRows, log: log)
        self.commandProbe = CommandProbe(configuration, log: log)
        self.probeConcurrency = configuration.probeConcurrency
        self.tenantProbeConcurrency = configuration.effectiveTenantProbeConcurrency
        self.outbox = configuration.associationCommand == nil ? nil : store.outbox()
        self.processor = RequestProcessor(store: store, registry: registry, policy: policy ?? ProcessingPolicy(configuration),
                                          outbox: outbox)
        self.results = ResultWriter(layout: layout, store: store, files: ResultFiles(encoding: configuration.resultsEncoding.csv))
        self.chunkSize = max(1, configuration.activeQueueLimit)
        self.courier = try? OutboxCourier(configuration: configuration, databasePath: store.databasePath, log: log, clock: clock)
        self.pipeline = try? ResultPipeline(layout: layout, databasePath: store.databasePath, files: results.files, chunk: 32)
        self.lists = registry is EmbeddedRegistry
            ? try? ListWriter(layout: layout, databasePath: store.databasePath, files: results.files,
                              retention: configuration.resultRetention, log: log, clock: clock)
            : nil
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

    /// Finishes what a crash left: claimed files not yet recorded, result files and lists not
    /// yet written, folders of retired requests not yet removed.
    public func recover() throws {
        removeOrphanedTemporaryFiles()
        // A stored status this release does not know (a damaged page, a hand edit) would stop
        // every later list of its tenant: the request is failed with an error outcome first.
        // Looked for here, at start-up, not in every pass: the query reads the whole history.
        for (id, value) in try store.requestsWithUnknownStatus() {
            let error = RecordError(table: "requests", key: id.description, column: "status", value: value)
            log.log("request_failed", ["id": id.description, "error": "\(error)"])
            try processor.fail(id, because: error, now: clock())
        }
        let ids = try intake.recover(tenants: try store.tenants(), now: clock())
        if !ids.isEmpty { log.log("recovered", ["requests": String(ids.count)]) }
        while try results.refreshFiles(limit: chunkSize) > 0 {}
        try results.refreshRequestLists()
        try results.removeRetiredFolders()
        if let lists {
            if !listsAtTheEndOnly { lists.schedule() }
        } else {
            try refreshAssociationLists()
        }
    }

    /// Brings every list up to date and applies retention, on this thread: the end of
    /// `serve --once`.
    public func finishLists() throws {
        try lists?.drain()
        try applyRetention()
        try results.refreshRequestLists()
        try refreshAssociationLists()
        courier?.schedule()  // events left by the last run
    }

    /// Retention (`result_retention`), on this thread.
    func applyRetention() throws {
        guard configuration.resultRetention > 0 else { return }
        while !shouldStop() {
            let removed = try results.applyRetention(cutoff: clock() - configuration.resultRetention, limit: chunkSize)
            if removed > 0 { log.log("retired", ["folders": String(removed)]) }
            if removed < chunkSize { break }
        }
    }

    /// Result files being written when a process died stay in `private/tmp` (never in
    /// `results/`): remove those whose writer is gone. A live writer (an operator command
    /// running now) keeps its own.
    func removeOrphanedTemporaryFiles() {
        let directory = layout.temporaryDirectory
        guard let names = try? FileSystem.listDirectory(directory) else { return }
        var removed = 0
        for name in names {
            let parts = name.split(separator: ".")  // .tmp.<pid>.<counter>.<random>
            guard parts.count >= 2, parts[0] == "tmp", let pid = Int32(parts[1]) else { continue }
            if pid != CurrentProcess.id && !CurrentProcess.exists(pid) {
                if (try? FileSystem.unlink(directory + "/" + name)) != nil { removed += 1 }
            }
        }
        if removed > 0 { log.log("temporary_files_removed", ["count": String(removed), "path": directory]) }
    }

    /// One round over everything due now.
    public func pass() throws -> PassSummary {
        let started = SystemClock.monotonic
        let summary = try passSteps()
        metrics?.passEnded(duration: SystemClock.monotonic - started, now: SystemClock.now)
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
                summary.processed += try runGrouped(try store.queuedRequestsFairly(limit: chunkSize)) { id in
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
        if let pipeline, summary.processed + summary.retried > 0 {
            // More work may follow at once: let the result thread catch up meanwhile rather
            // than wait for it; the pass that finds nothing to process brings it up to date.
            try pipeline.record(on: results)
            pipeline.schedule()
            summary.refreshed += 1  // the files of this pass's requests are still to be written
        } else {
            try pipeline?.drain(recordingOn: results)
            while !shouldStop() {
                let n = try results.refreshFiles(limit: chunkSize)
                summary.refreshed += n
                if n == 0 { break }
            }
        }
        if let lists {
            if !listsAtTheEndOnly { lists.schedule() }
        } else {
            try results.refreshRequestLists()
            if !summary.didWork { try applyRetention() }
            if !summary.didWork || clock() - associationListsWrittenAt >= associationListInterval {
                if try refreshAssociationLists() > 0 { associationListsWrittenAt = clock() }
            } else {
                wake.append(associationListsWrittenAt + associationListInterval)
            }
        }
        courier?.schedule()  // new events, also from commands (associate, dissociate)
        wake.append(try store.nextDueTime())
        wake.append(registryPausedUntil)
        summary.nextWakeAt = wake.compactMap { $0 }.min()
        return summary
    }

    /// The associazioni.csv lists that are stale, read through the registry, on this thread. While the registry
    /// is down they stay stale (logged once) and are written when it answers again: an outage
    /// pauses them as it pauses the rows, it does not fail the pass.
    @discardableResult
    private func refreshAssociationLists() throws -> Int {
        do {
            let n = try results.refreshAssociationLists(from: registry)
            associationListsDeferred = false
            return n
        } catch let error as RegistryError {
            if !associationListsDeferred {
                log.log("association_lists_deferred", ["error": "\(error)"])
                associationListsDeferred = true
            }
            return 0
        }
    }
    private var associationListsDeferred = false

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

    func isRegistryAvailable() -> Bool {
        guard let until = registryPausedUntil else { return true }
        return clock() >= until
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
            try pipeline?.record(on: results)
        } catch {
            log.log("results_unrecorded", ["error": "\(error)"])  // the next commit records them
        }
        guard clock() - uploadsClaimedAt >= 1 else { return false }
        uploadsClaimedAt = clock()
        if !listsAtTheEndOnly { lists?.schedule() }
        courier?.schedule()
        do {
            _ = try scanUploads()
        } catch {
            log.log("intake_deferred", ["error": "\(error)"])  // the next pass scans again
        }
        return true
    }
    private var uploadsClaimedAt = -Double.infinity

    /// Requests committed together: each request's pass is a savepoint (undone alone if it
    /// fails), and the group is one transaction, so the commit's cost is shared. A crash loses
    /// at most the group's work, which the next pass does again.
    public var groupSize = 8

    /// Runs `pass` on each of `ids`, `groupSize` to a transaction, until the registry goes down
    /// or a stop is asked for; logs each request once its group is committed. Returns how many.
    /// (With `probe_command`, `runFairly` runs the pass's work instead.)
    private func runGrouped(_ ids: [RequestID], _ pass: (RequestID) throws -> RequestProcessor.PassReport?) throws -> Int {
        var done = 0
        var index = 0
        var halted = false
        while index < ids.count && !halted {
            var reports: [RequestProcessor.PassReport] = []
            try store.transaction {
                for id in ids[index..<min(ids.count, index + groupSize)] {
                    if shouldStop() { halted = true; break }
                    guard try run({ try pass(id) }, id, reports: &reports) else {
                        halted = true
                        break
                    }
                    done += 1
                    index += 1
                }
            }
            reports.forEach(logReport)
            try pipeline?.record(on: results)
            pipeline?.schedule()
        }
        return done
    }

    /// Runs one request's pass. Returns false when the registry is down (stop for now).
    func run(_ body: () throws -> RequestProcessor.PassReport?, _ id: RequestID,
                     reports: inout [RequestProcessor.PassReport]) throws -> Bool {
        do {
            if let report = try body() { reports.append(report) }
            if consecutiveOutages > 0 || outageMayBeOpen {
                recordOutage { try $0.registryOutageEnded(now: clock()) }
                outageMayBeOpen = false
            }
            if consecutiveOutages > 0 {
                log.log("registry_available", ["after_outages": String(consecutiveOutages)])
                consecutiveOutages = 0
                registryPausedUntil = nil
            }
            return true
        } catch let error as ProbeNotAnswered {
            // Undone, nothing spent: stopping (its probes were killed), or a row that reached
            // check 15 only now (the registry changed since the probes were planned): the next
            // pass plans it again.
            if error.stopping { return false }
            log.log("probe_replanned", ["request": id.description, "pod": error.pod])
            return true
        } catch let error as RegistryError {
            consecutiveOutages += 1
            if consecutiveOutages == 1 { recordOutage { try $0.registryOutageStarted(now: clock()) } }
            let delay = Backoff(minimal: configuration.outageMinimalBackoffTime, maximal: configuration.outageMaximalBackoffTime)
                .delay(afterAttempt: consecutiveOutages)
            registryPausedUntil = clock() + delay
            log.log("registry_unavailable", ["error": "\(error)", "request": id.description, "retry_in": "\(Int(delay.rounded(.up)))s"])
            return false
        } catch let error as DatabaseError where error.isBusy {
            // Another process held the database too long: not this request's fault.
            log.log("database_busy", ["request": id.description, "error": "\(error)"])
            return false
        } catch let error as DatabaseError {
            // Disk full, I/O error: the database's trouble, not this request's. The pass fails
            // and is tried again; rejecting the request would outlive the trouble.
            throw error
        } catch {
            log.log("request_failed", ["id": id.description, "error": "\(error)"])
            try processor.fail(id, because: error, now: clock())
            return true
        }
    }

    /// Records an outage's start or end in the database (its metrics), in the group's
    /// transaction. Bookkeeping: a failure is logged, never the engine's.
    private func recordOutage(_ body: (MetricsStore) throws -> Void) {
        do {
            try body(store.metricsStore())
        } catch {
            log.log("outage_record_failed", ["error": "\(error)"])
        }
    }

    func logReport(_ r: RequestProcessor.PassReport) {
        switch r.status {
        case .done:
            log.log("done", ["id": r.id.description, "tenant": r.tenant, "file": r.fileName, "rows": String(r.rowsTotal),
                             "errors": String(r.rowsFailed)])
        case .rejected:
            log.log("rejected", ["id": r.id.description, "tenant": r.tenant, "file": r.fileName, "reason": r.reason ?? ""])
        case .processing:
            log.log("deferred", ["id": r.id.description, "tenant": r.tenant, "file": r.fileName, "rows": String(r.rowsTotal),
                                 "waiting": String(r.rowsWaiting), "errors": String(r.rowsFailed)])
        default: break
        }
    }
}
