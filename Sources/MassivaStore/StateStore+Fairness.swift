import MassivaDatabase
import MassivaDomain

// MARK: A fair share for every tenant

/// One request the engine may work on now: queued (its first pass) or processing with rows due
/// for a retry.
public struct PendingWork: Sendable, Equatable {
    public var id: RequestID
    public var tenant: String
    /// True for a retry of rows due now, false for a queued request's first pass.
    public var isRetry: Bool

    public init(id: RequestID, tenant: String, isRetry: Bool) {
        self.id = id
        self.tenant = tenant
        self.isRetry = isRetry
    }
}

extension StateStore {
    // Work is taken round-robin between tenants, as Postfix's queue manager serves its
    // destinations: each tenant's requests are numbered in their own order (`turn`, from
    // `row_number() OVER (PARTITION BY tenant ...)`), and the work is taken by turn, then in
    // the tenants' own order. So a tenant with one request waits for one request of each other
    // tenant, not for their backlogs (issue 19: SI beta's one row waited 37.7 s behind SI
    // alfa's 1,000). The outer `WHERE turn <= limit` keeps the sort to the rows that can be
    // taken.

    /// Queued requests round-robin between tenants: each tenant's oldest first, then each
    /// tenant's second, and so on (ties in a turn by id).
    public func queuedRequestsFairly(limit: Int) throws -> [RequestID] {
        try database.query("""
            SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY tenant ORDER BY id) AS turn
                            FROM requests WHERE status = 'queued') AS turns
            WHERE turn <= ?1 ORDER BY turn, id LIMIT ?1
            """, [.int(limit)]) { RequestID($0.int("id")) }
    }

    /// Requests with rows due for a retry at `now`, round-robin between tenants: each tenant's
    /// earliest due first.
    public func dueRequestsFairly(now: Double, limit: Int) throws -> [RequestID] {
        try database.query("""
            SELECT id FROM (SELECT id, next_due_at, row_number() OVER (PARTITION BY tenant ORDER BY next_due_at, id) AS turn
                            FROM requests WHERE status = 'processing' AND next_due_at <= ?1) AS turns
            WHERE turn <= ?2 ORDER BY turn, next_due_at, id LIMIT ?2
            """, [.double(now), .int(limit)]) { RequestID($0.int("id")) }
    }

    /// Queued requests and retries due at `now` together, round-robin between tenants; within
    /// a tenant, in the order each became workable (a queued request when it was recorded, a
    /// retry when it fell due). What a pass with `probe_command` feeds its probes from.
    public func pendingWorkFairly(now: Double, limit: Int) throws -> [PendingWork] {
        try database.query("""
            SELECT id, tenant, retry FROM (
                SELECT id, tenant, retry, row_number() OVER (PARTITION BY tenant ORDER BY since, id) AS turn FROM (
                    SELECT id, tenant, 0 AS retry, submitted_at AS since FROM requests WHERE status = 'queued'
                    UNION ALL
                    SELECT id, tenant, 1 AS retry, next_due_at AS since FROM requests WHERE status = 'processing' AND next_due_at <= ?1) AS pending) AS turns
            WHERE turn <= ?2 ORDER BY turn, id LIMIT ?2
            """, [.double(now), .int(limit)]) {
            PendingWork(id: RequestID($0.int("id")), tenant: $0.text("tenant"), isRetry: $0.bool("retry"))
        }
    }

    /// Each tenant's queued requests (tenants with none are absent): `tenant_queue_limit`, the
    /// metrics and `status`. Reads the queued requests only (the partial index `requests_queued`).
    public func queuedRequestsByTenant() throws -> [String: Int] {
        try Self.queuedRequestsByTenant(database)
    }

    static func queuedRequestsByTenant(_ database: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        try database.each("SELECT tenant, count(*) AS queued FROM requests WHERE status = 'queued' GROUP BY tenant", []) { s in
            counts[s.text("tenant")] = s.int("queued")
        }
        return counts
    }
}
