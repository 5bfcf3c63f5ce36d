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
    /// How many requests one pass takes at most per step, and uploads per tenant:
    /// `active_queue_limit`, as configured.
    public var chunkSize: Int
    /// When the associazioni.csv lists were last written: while requests keep coming they are
    /// rewritten at most every `associationListInterval` seconds (each is a tenant's whole list).
    private var associationListsWrittenAt = -Double.infinity
    public var associationListInterval = 5.0
    /// Result files are written on a second thread while requests are processed.
    private let pipeline: ResultPipeline?
    /// The metrics file's writer (`metrics_file`), told of each pass that did not fail; `serve`
    /// sets it, other commands leave it nil.
    public var metrics: MetricsReporter?
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
        self.processor = RequestProcessor(store: store, registry: registry, policy: policy ?? ProcessingPolicy(configuration))
        self.results = ResultWriter(layout: layout, store: store, files: ResultFiles(encoding: configuration.resultsEncoding.csv))
        self.chunkSize = max(1, configuration.activeQueueLimit)
        self.pipeline = try? ResultPipeline(layout: layout, databasePath: store.database.path, files: results.files, chunk: 32)
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

    /// Finishes what a crash left: claimed files not yet recorded, result files not yet written.
    public func recover() throws {
        removeOrphanedTemporaryFiles()
        let ids = try intake.recover(tenants: try store.tenants(), now: clock())
        if !ids.isEmpty { log.log("recovered", ["requests": String(ids.count)]) }
        while try results.refresh(limit: chunkSize) > 0 {}
        try refreshAssociationLists()
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
        for tenant in try store.tenants() {
            let scan = try intake.scan(tenant: tenant, now: clock(), limit: chunkSize)
            summary.recorded += scan.recorded.count
            wake.append(scan.nextSettleAt)
        }
        if isRegistryAvailable() {
            summary.processed += try runGrouped(try store.queuedRequests(limit: chunkSize)) { try processor.processQueued($0, now: clock()) }
        }
        if isRegistryAvailable() {
            summary.retried += try runGrouped(try store.dueRequests(now: clock(), limit: chunkSize)) { try processor.retryDue($0, now: clock()) }
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
                let n = try results.refresh(limit: chunkSize)
                summary.refreshed += n
                if n == 0 { break }
            }
        }
        if !summary.didWork || clock() - associationListsWrittenAt >= associationListInterval {
            if try refreshAssociationLists() > 0 { associationListsWrittenAt = clock() }
        } else {
            wake.append(associationListsWrittenAt + associationListInterval)
        }
        wake.append(try store.nextDueTime())
        wake.append(registryPausedUntil)
        summary.nextWakeAt = wake.compactMap { $0 }.min()
        return summary
    }

    /// The associazioni.csv lists that are stale, read through the registry. While the registry
    /// is down they stay stale (logged once) and are written when it answers again: an outage
    /// pauses them as it pauses the rows, it does not fail the pass.
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
        try recover()
        while true {
            let summary = try pass()
            if !summary.didWork { break }
        }
    }

    func isRegistryAvailable() -> Bool {
        guard let until = registryPausedUntil else { return true }
        return clock() >= until
    }

    /// Requests committed together: each request's pass is a savepoint (undone alone if it
    /// fails), and the group is one transaction, so the commit's cost is shared. A crash loses
    /// at most the group's work, which the next pass does again.
    public var groupSize = 8

    /// Runs `pass` on each of `ids`, `groupSize` to a transaction, until the registry goes down
    /// or a stop is asked for; logs each request once its group is committed. Returns how many.
    private func runGrouped(_ ids: [RequestID], _ pass: (RequestID) throws -> RequestProcessor.PassReport?) throws -> Int {
        var done = 0
        var index = 0
        var halted = false
        while index < ids.count && !halted {
            var reports: [RequestProcessor.PassReport] = []
            try store.database.transaction {
                for id in ids[index..<min(ids.count, index + groupSize)] {
                    if shouldStop() { halted = true; break }
                    guard try run({ try pass(id) }, id, reports: &reports) else { halted = true; break }
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
    private func run(_ body: () throws -> RequestProcessor.PassReport?, _ id: RequestID,
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
            try body(MetricsStore(database: store.database))
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
