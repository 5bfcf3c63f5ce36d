import Dispatch
import MassivaDatabase
import MassivaDomain
import MassivaStore
import MassivaSystem
import Synchronization

/// What only the running process knows: when it started, its version, how long its passes take
/// and when the last one succeeded. One per process (`serve` makes it at its start and hands it
/// to each reporter), so a reload (a new engine, a new reporter) keeps it; it starts afresh with
/// the process, as a process's own figures do (Prometheus's `rate` takes counter resets in its
/// stride). Every other figure comes from the database.
public final class ProcessMetrics: Sendable {

    /// Upper bounds of the pass-duration buckets, in seconds (`+Inf` implied).
    public static let passBounds: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    struct State {
        var version = "unknown"
        var passCounts = Array(repeating: 0, count: ProcessMetrics.passBounds.count + 1)
        var passSum = 0.0
        var lastSuccessfulPass: Double?
    }
    private let state = Mutex(State())
    public let startTime: Double
    private let leadershipReader = Mutex<(@Sendable () -> (node: String, term: Int?)?)?>(nil)

    /// - Parameter startTime: when the process started, seconds since the epoch.
    public init(startTime: Double) {
        self.startTime = startTime
    }

    /// The release, for `massiva_build_info` (the CLI sets it at start).
    public var version: String {
        get { state.withLock { $0.version } }
        set { state.withLock { $0.version = newValue } }
    }

    /// This node's name and the term it leads under now (nil: standby), read at each write
    /// (`massiva_leader`, `massiva_leader_term`); nil: no lease (nothing shown).
    public var leadership: (@Sendable () -> (node: String, term: Int?)?)? {
        get { leadershipReader.withLock { $0 } }
        set { leadershipReader.withLock { $0 = newValue } }
    }

    /// A pass that finished without an error, `duration` seconds long, at `now`.
    public func passSucceeded(duration: Double, now: Double) {
        let index = Self.passBounds.firstIndex { duration <= $0 } ?? Self.passBounds.count
        state.withLock {
            $0.passCounts[index] += 1
            $0.passSum += duration
            $0.lastSuccessfulPass = now
        }
    }

    struct Reading {
        var version: String
        var passCounts: [Int]
        var passSum: Double
        var lastSuccessfulPass: Double?
    }

    func read() -> Reading {
        state.withLock { Reading(version: $0.version, passCounts: $0.passCounts, passSum: $0.passSum, lastSuccessfulPass: $0.lastSuccessfulPass) }
    }
}

/// Writes the metrics file (`metrics_file`) for node_exporter's textfile collector.
///
/// Advisory, so never in the engine's way: the engine only calls `passEnded`, which records the
/// pass in memory and asks for a write; the write runs on a queue of its own, with a database
/// connection of its own that only reads (WAL: the engine's writes never wait for it). It is
/// written at most every `minimalInterval` after passes, and every `heartbeat` even when nothing
/// happens (the ages grow; the file's modification time says the daemon is alive). Written
/// atomically: a temporary name in the same folder (not `*.prom`, so the collector skips it),
/// mode 0644 whatever the umask (node_exporter runs as another user), then renamed. A failure is
/// logged once, until a write succeeds again; it never stops the daemon.
public final class MetricsReporter: @unchecked Sendable {
    public let path: String
    public let minimalInterval: Double
    /// `maximal_backoff_time`, shown so an alert rule can compare a row's wait with it.
    let maximalBackoff: Double
    /// `tenant_queue_limit`: a tenant with this many queued requests is at its limit.
    let tenantQueueLimit: Int
    private let database: DatabaseLocation
    private let log: EventLog
    private let process: ProcessMetrics
    /// The snapshot's time (wall) and the rate limit's (monotonic, and its timer).
    private let clock: Clock
    private let queue = DispatchQueue(label: "massiva.metrics", qos: .utility)
    private let scheduling = Mutex((pending: false, lastWrite: -Double.infinity, writes: 0))
    private var heartbeatTimer: DispatchSourceTimer?
    /// Owned by `queue`.
    private var store: MetricsStore?
    private var failing = false
    /// How long the last snapshot and rendering took (shown in the next file).
    private var lastSnapshotSeconds = 0.0

    public init(path: String, database: DatabaseLocation, maximalBackoff: Double, tenantQueueLimit: Int = 1000, log: EventLog,
                process: ProcessMetrics, clock: Clock, minimalInterval: Double = 5, heartbeat: Double = 30) {
        self.path = path
        self.database = database
        self.maximalBackoff = maximalBackoff
        self.tenantQueueLimit = tenantQueueLimit
        self.log = log
        self.process = process
        self.clock = clock
        self.minimalInterval = minimalInterval
        if heartbeat > 0 {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + heartbeat, repeating: heartbeat, leeway: .seconds(1))
            timer.setEventHandler { [weak self] in self?.write() }
            timer.resume()
            heartbeatTimer = timer
        }
    }

    deinit {
        heartbeatTimer?.cancel()
    }

    /// Called by the engine after each pass that did not fail: O(1), never waits.
    public func passEnded(duration: Double, now: Double) {
        process.passSucceeded(duration: duration, now: now)
        schedule()
    }

    /// Asks for a write: at once when the last one is older than `minimalInterval`, else when
    /// it will be; at most one is pending.
    public func schedule() {
        let delay: Double? = scheduling.withLock { s in
            if s.pending { return nil }
            s.pending = true
            return max(0, s.lastWrite + minimalInterval - clock.monotonic)
        }
        guard let delay else { return }
        clock.after(delay, on: queue) { [weak self] in
            guard let self else { return }
            // Both under one lock: a pass that asks between them must find this write's time,
            // or it would schedule another at once.
            scheduling.withLock {
                $0.pending = false
                $0.lastWrite = clock.monotonic
            }
            write()
        }
    }

    /// How many writes were tried so far (the rate limit's tests).
    public var writes: Int { scheduling.withLock { $0.writes } }

    /// Writes the file now and waits for it (`serve --once` at its end, tests). Returns whether
    /// it was written.
    @discardableResult
    public func writeNow() -> Bool {
        queue.sync { write() }
    }

    /// Reads, renders and replaces the file. On `queue` only.
    @discardableResult
    private func write() -> Bool {
        scheduling.withLock {
            $0.lastWrite = clock.monotonic
            $0.writes += 1
        }
        do {
            let started = clock.monotonic
            if store == nil { store = MetricsStore(database: try Schema.open(database)) }
            let now = clock.now
            let snapshot = try store!.snapshot(now: now)
            let text = render(snapshot, now: now)
            lastSnapshotSeconds = clock.monotonic - started
            try AtomicFile.write(Array(text.utf8), to: path, temporaryDirectory: FileSystem.parentDirectory(of: path),
                                 permissions: 0o644, durable: false)
            if failing {
                failing = false
                log.log("metrics_written", ["path": path])
            }
            return true
        } catch {
            if !failing {
                failing = true
                log.log("metrics_write_failed", ["path": path, "error": "\(error)", "action": "will retry; the engine goes on"])
            }
            store = nil  // a connection in trouble is opened afresh next time
            return false
        }
    }

    /// The file's text. Names follow Prometheus's conventions: `massiva_` prefix, base units
    /// (seconds), `_total` for counters, `_timestamp_seconds` for times since the epoch.
    func render(_ m: MetricsSnapshot, now: Double) -> String {
        let p = process.read()
        var t = PrometheusText()
        t.family("massiva_build_info", .gauge, "Always 1; the running release in its version label.")
        t.sample("massiva_build_info", ["version": p.version], 1)
        t.family("massiva_start_time_seconds", .gauge, "When the daemon started, seconds since the epoch.")
        t.sample("massiva_start_time_seconds", process.startTime)
        if let leadership = process.leadership?() {
            t.family("massiva_leader", .gauge, "1 while this daemon leads the spool (holds and trusts its lease), 0 while it stands by; by node_name.")
            t.sample("massiva_leader", ["node": leadership.node], leadership.term == nil ? 0 : 1)
            t.family("massiva_leader_term", .gauge, "The lease's term this daemon leads under (0 while it stands by): it grows by one at every takeover.")
            t.sample("massiva_leader_term", leadership.term ?? 0)
        }
        t.family("massiva_last_successful_pass_timestamp_seconds", .gauge,
                 "When the engine last finished a pass without an error, seconds since the epoch (0: none yet).")
        t.sample("massiva_last_successful_pass_timestamp_seconds", p.lastSuccessfulPass ?? 0)

        let tenants = m.tenants
        t.family("massiva_requests_total", .counter, "Requests that reached a final status, by tenant and status (done, rejected, cancelled).")
        // Every tenant's three series from the start, at 0: a series that first appears at 1
        // would hide its first increase from rate() and increase().
        var requests = m.requests
        for tenant in tenants {
            for status in RequestStatus.allCases where status.isFinal { requests[TenantKey(tenant, status), default: 0] += 0 }
        }
        for (key, value) in requests.sorted(by: { ($0.key.tenant, $0.key.value.rawValue) < ($1.key.tenant, $1.key.value.rawValue) }) {
            t.sample("massiva_requests_total", ["tenant": key.tenant, "status": key.value.rawValue], value)
        }
        t.family("massiva_rows_total", .counter, "Rows of finished requests, by tenant and final outcome code (OK, POD_NOT_FOUND, MAX_ATTEMPTS_REACHED, ...).")
        for (key, value) in m.rows.sorted(by: { ($0.key.tenant, $0.key.value.rawValue) < ($1.key.tenant, $1.key.value.rawValue) }) {
            t.sample("massiva_rows_total", ["tenant": key.tenant, "code": key.value.rawValue], value)
        }
        t.family("massiva_refused_uploads_total", .counter,
                 "Uploads refused unread (links, FIFOs, folders, files over max_file_size, unreadable), by tenant.")
        for tenant in Set(tenants).union(m.refusedUploads.keys).sorted() {
            t.sample("massiva_refused_uploads_total", ["tenant": tenant], m.refusedUploads[tenant] ?? 0)
        }
        t.family("massiva_tenant_consecutive_rejected_requests", .gauge,
                 "How many of the tenant's latest done or rejected requests in a row were rejected (at most \(MetricsSnapshot.rejectedRunLimit)).")
        for tenant in tenants { t.sample("massiva_tenant_consecutive_rejected_requests", ["tenant": tenant], m.rejectedRun[tenant] ?? 0) }

        t.family("massiva_queued_requests", .gauge, "Requests recorded and not started.")
        t.sample("massiva_queued_requests", m.queued)
        t.family("massiva_tenant_queued_requests", .gauge, "Requests recorded and not started, by tenant.")
        for tenant in tenants { t.sample("massiva_tenant_queued_requests", ["tenant": tenant], m.queuedByTenant[tenant] ?? 0) }
        t.family("massiva_tenant_queue_full", .gauge,
                 "1 while the tenant has tenant_queue_limit (\(tenantQueueLimit)) queued requests: its new uploads wait in incoming/.")
        for tenant in tenants {
            t.sample("massiva_tenant_queue_full", ["tenant": tenant], (m.queuedByTenant[tenant] ?? 0) >= tenantQueueLimit ? 1 : 0)
        }
        t.family("massiva_processing_requests", .gauge, "Requests in progress (rows waiting for a retry included).")
        t.sample("massiva_processing_requests", m.processing)
        t.family("massiva_due_requests", .gauge, "Requests in progress whose waiting rows are due for a retry now.")
        t.sample("massiva_due_requests", m.dueRequests)
        t.family("massiva_waiting_rows", .gauge, "Rows waiting for a retry (meter unreachable).")
        t.sample("massiva_waiting_rows", m.waitingRows)
        t.family("massiva_oldest_queued_request_age_seconds", .gauge, "How long the oldest queued request has waited to start (0: none queued).")
        t.sample("massiva_oldest_queued_request_age_seconds", m.oldestQueuedAt.map { max(0, now - $0) } ?? 0)
        t.family("massiva_oldest_waiting_row_age_seconds", .gauge,
                 "How long ago the waiting row that has waited longest was last tried (0: none waiting).")
        t.sample("massiva_oldest_waiting_row_age_seconds", m.oldestWaitingSince.map { max(0, now - $0) } ?? 0)
        t.family("massiva_maximal_backoff_seconds", .gauge, "The configured maximal_backoff_time: the longest wait between two tries of a row.")
        t.sample("massiva_maximal_backoff_seconds", maximalBackoff)

        t.family("massiva_outbox_events", .gauge, "Association events waiting to be handed to association_command (the outbox).")
        t.sample("massiva_outbox_events", m.outboxDepth)
        t.family("massiva_outbox_oldest_event_age_seconds", .gauge, "How long the oldest waiting association event has waited (0: none).")
        t.sample("massiva_outbox_oldest_event_age_seconds", m.outboxOldestAt.map { max(0, now - $0) } ?? 0)

        t.family("massiva_registry_outages_total", .counter, "Times the registry itself went down (not one meter).")
        t.sample("massiva_registry_outages_total", m.registryOutages)
        t.family("massiva_registry_outage_seconds_total", .counter, "Seconds the registry was down, the outages that ended.")
        t.sample("massiva_registry_outage_seconds_total", m.registryOutageSeconds)
        t.family("massiva_registry_outage_in_progress", .gauge, "1 while the registry is down and the work is paused.")
        t.sample("massiva_registry_outage_in_progress", m.registryOutageInProgress ? 1 : 0)
        t.family("massiva_registry_outage_current_seconds", .gauge, "How long the outage in progress has lasted so far (0: none).")
        t.sample("massiva_registry_outage_current_seconds", m.registryOutageStartedAt.map { max(0, now - $0) } ?? 0)

        t.family("massiva_pass_duration_seconds", .histogram, "How long the engine's passes take (this process's passes).")
        t.histogram("massiva_pass_duration_seconds", bounds: ProcessMetrics.passBounds, counts: p.passCounts, sum: p.passSum)
        t.family("massiva_drop_to_result_seconds", .histogram,
                 "From an upload's last change to its final result files in results/, per request.")
        t.histogram("massiva_drop_to_result_seconds", bounds: MetricsSnapshot.latencyBounds, counts: m.latencyBuckets, sum: m.latencySum)

        t.family("massiva_metrics_snapshot_duration_seconds", .gauge, "How long reading the database and rendering the previous metrics file took.")
        t.sample("massiva_metrics_snapshot_duration_seconds", lastSnapshotSeconds)
        return t.text
    }
}
