import MassivaDatabase
import MassivaDomain

/// What the metrics file shows, read from the database in one snapshot.
///
/// The counters are the tallies migration 5's triggers keep (`metric_counts`) and the registry
/// outages the engine records, so they survive restarts and the deletion of old requests; the
/// gauges are read from the queue as it stands.
public struct MetricsSnapshot: Sendable, Equatable {
    /// The upper bounds of the drop-to-result latency's buckets, in seconds, as migration 5's
    /// trigger files them (its `CASE`); the last bucket, `+Inf`, is implied.
    public static let latencyBounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10, 30, 60, 300, 1800, 3600, 14400]

    /// Final requests by tenant and status (done, rejected, cancelled).
    public var requests: [TenantKey<RequestStatus>: Int] = [:]
    /// Rows of final requests by tenant and final outcome code.
    public var rows: [TenantKey<RowCode>: Int] = [:]
    /// Uploads refused unread (links, FIFOs, folders, too large, unreadable) by tenant.
    public var refusedUploads: [String: Int] = [:]
    /// Drop-to-result latency: the count in each bucket (not cumulative; the last is `+Inf`), and the sum.
    public var latencyBuckets: [Int] = Array(repeating: 0, count: MetricsSnapshot.latencyBounds.count + 1)
    public var latencySum: Double = 0

    public var queued = 0
    /// Each tenant's queued requests (`tenant_queue_limit` applies to them); absent: none.
    public var queuedByTenant: [String: Int] = [:]
    public var processing = 0
    public var waitingRows = 0
    /// Requests whose waiting rows are due now (work the engine should be doing).
    public var dueRequests = 0
    /// When the oldest queued request was recorded.
    public var oldestQueuedAt: Double?
    /// The last attempt of the waiting row that has waited longest for its retry.
    public var oldestWaitingSince: Double?

    /// Association events waiting for `association_command` (the outbox), and when the oldest
    /// was made.
    public var outboxDepth = 0
    public var outboxOldestAt: Double?

    public var registryOutages = 0
    /// The seconds of the outages that ended: a counter must never go down, and an open
    /// outage's "so far" (the snapshot's clock) could exceed the end the engine then records.
    public var registryOutageSeconds: Double = 0
    /// When the outage in progress began, if one is.
    public var registryOutageStartedAt: Double?
    public var registryOutageInProgress: Bool { registryOutageStartedAt != nil }

    /// Every tenant, so that each shows its counters even at 0.
    public var tenants: [String] = []
    /// Each tenant's run of rejected requests among its latest final ones (cancelled ones
    /// skipped), up to `rejectedRunLimit`.
    public var rejectedRun: [String: Int] = [:]
    public static let rejectedRunLimit = 100

    public init() {}
}

/// A counter's labels: the tenant and one more value.
public struct TenantKey<Value: Hashable & Sendable>: Hashable, Sendable {
    public var tenant: String
    public var value: Value
    public init(_ tenant: String, _ value: Value) {
        self.tenant = tenant
        self.value = value
    }
}

/// The metrics' queries and the registry outages' records.
public struct MetricsStore {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Everything the metrics file shows, in one read transaction (a snapshot; the engine's
    /// writes go on meanwhile, WAL).
    public func snapshot(now: Double) throws -> MetricsSnapshot {
        try database.readTransaction {
            var m = MetricsSnapshot()
            try database.each("SELECT metric, tenant, key, value FROM metric_counts", []) { s in
                try Self.tally(s, into: &m)
            }
            if let q = try database.queryOne("""
                SELECT (SELECT count(*) FROM requests WHERE status = 'queued') AS queued,
                       (SELECT count(*) FROM requests WHERE status = 'processing') AS processing,
                       (SELECT count(*) FROM requests WHERE status = 'processing' AND next_due_at <= ?1) AS due,
                       (SELECT submitted_at FROM requests WHERE status = 'queued' ORDER BY id LIMIT 1) AS oldest_queued_at
                """, [.double(now)], { s in
                    (s.int("queued"), s.int("processing"), s.int("due"), s.optionalDouble("oldest_queued_at"))
                }) {
                (m.queued, m.processing, m.dueRequests, m.oldestQueuedAt) = q
            }
            // The waiting rows, read once for both figures (the partial index rows_waiting): the
            // snapshot's largest read, about 15 ms for 50,000 waiting rows.
            if let w = try database.queryOne("""
                SELECT count(*) AS waiting, min(coalesce(r.processed_at, q.submitted_at)) AS oldest_since
                FROM rows r JOIN requests q ON q.id = r.request
                WHERE r.state = 'waiting' AND q.status = 'processing'
                """, [], { s in (s.int("waiting"), s.optionalDouble("oldest_since")) }) {
                (m.waitingRows, m.oldestWaitingSince) = w
            }
            if let o = try database.queryOne("""
                SELECT count(*) AS outages, coalesce(sum(ended_at - started_at), 0) AS seconds,
                       min(CASE WHEN ended_at IS NULL THEN started_at END) AS open_since
                FROM registry_outages
                """, [], { s in (s.int("outages"), s.double("seconds"), s.optionalDouble("open_since")) }) {
                (m.registryOutages, m.registryOutageSeconds, m.registryOutageStartedAt) = o
            }
            let outbox = try Outbox(database: database).figures()
            (m.outboxDepth, m.outboxOldestAt) = (outbox.depth, outbox.oldest?.createdAt)
            m.tenants = try database.query("SELECT id FROM tenants ORDER BY id", [], { $0.text("id") })
            m.queuedByTenant = try StateStore.queuedRequestsByTenant(database)
            for tenant in m.tenants { m.rejectedRun[tenant] = try rejectedRun(tenant: tenant) }
            return m
        }
    }

    /// How many of `tenant`'s latest done or rejected requests were rejected, newest first,
    /// until one was done (at most `rejectedRunLimit` are read: the index (tenant, id) backwards).
    func rejectedRun(tenant: String) throws -> Int {
        var run = 0
        var broken = false
        try database.each("""
            SELECT status FROM requests WHERE tenant = ? AND status IN ('done', 'rejected') ORDER BY id DESC LIMIT ?
            """, [.text(tenant), .int(MetricsSnapshot.rejectedRunLimit)]) { s in
            if broken { return }
            if s.text("status") == RequestStatus.rejected.rawValue { run += 1 } else { broken = true }
        }
        return run
    }

    /// One `metric_counts` line into the snapshot, strictly: an unknown metric, status, code or
    /// bucket is a `RecordError`, never skipped.
    static func tally(_ s: Statement, into m: inout MetricsSnapshot) throws(RecordError) {
        let metric = s.text("metric"), tenant = s.text("tenant"), key = s.text("key"), value = s.double("value")
        func bad(_ column: String, _ found: String) -> RecordError {
            RecordError(table: "metric_counts", key: "\(metric)/\(tenant)/\(key)", column: column, value: found)
        }
        switch metric {
        case "requests":
            guard let status = RequestStatus(rawValue: key), status.isFinal else { throw bad("key", key) }
            m.requests[TenantKey(tenant, status), default: 0] += Int(value)
        case "rows":
            guard let code = RowCode(rawValue: key) else { throw bad("key", key) }
            m.rows[TenantKey(tenant, code), default: 0] += Int(value)
        case "refused_uploads":
            m.refusedUploads[tenant, default: 0] += Int(value)
        case "drop_to_result_bucket":
            let index = key == "+Inf" ? MetricsSnapshot.latencyBounds.count
                : MetricsSnapshot.latencyBounds.firstIndex { Self.boundKey($0) == key }
            guard let index else { throw bad("key", key) }
            m.latencyBuckets[index] += Int(value)
        case "drop_to_result_sum":
            m.latencySum += value
        default:
            throw bad("metric", metric)
        }
    }

    /// A bound as the trigger spells it: `0.05`, `1`, `14400`.
    static func boundKey(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }

    // MARK: Registry outages

    /// Records that the registry went down at `now`, unless an outage is already open (one the
    /// engine recorded before a restart, say). Call it when an outage starts, not at each
    /// failed try.
    public func registryOutageStarted(now: Double) throws {
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            try database.run("""
                INSERT INTO registry_outages(started_at) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM registry_outages WHERE ended_at IS NULL)
                """, [.double(now)])
        }
    }

    /// Closes the open outage, if any: the registry answered at `now`.
    public func registryOutageEnded(now: Double) throws {
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            try database.run("UPDATE registry_outages SET ended_at = CASE WHEN started_at > ?1 THEN started_at ELSE ?1 END WHERE ended_at IS NULL", [.double(now)])
        }
    }
}
