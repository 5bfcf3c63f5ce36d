import MassivaDatabase
import MassivaDomain

// MARK: Request lists (richieste.csv; the `request_lists` table)

extension StateStore {
    // Per tenant (`request_lists`), the version of its request list and the version its
    // richieste.csv shows; a tenant without a line there never had it written by this release.

    /// The requests richieste.csv lists, newest first: those whose folder is in `results/`
    /// (written at least once, not retired).
    public func eachListedRequest(tenant: String, _ body: (RequestListEntry) throws -> Void) throws {
        try database.each("""
            SELECT id, file_name, submitted_at, completed_at, rows_processed, rows_total, rows_failed, status, max_attempts_hit, reason
            FROM requests WHERE tenant = ? AND results_state = 'present' AND results_version > 0 ORDER BY id DESC
            """, [.text(tenant)]) { s in
            let id = RequestID(s.int("id"))
            guard let status = RequestStatus(rawValue: s.text("status")) else {
                throw RecordError(table: "requests", key: id.description, column: "status", value: s.text("status"))
            }
            try body(RequestListEntry(id: id, fileName: s.text("file_name"), submittedAt: s.double("submitted_at"),
                                      completedAt: s.optionalDouble("completed_at"), rowsProcessed: s.int("rows_processed"),
                                      rowsTotal: s.int("rows_total"), rowsFailed: s.int("rows_failed"), status: status,
                                      maxAttemptsHit: s.bool("max_attempts_hit"), reason: s.optionalText("reason")))
        }
    }

    /// Marks `tenant`'s richieste.csv stale.
    public func markRequestListChanged(tenant: String) throws {
        try database.run("""
            INSERT INTO request_lists(tenant, state_version, results_version) VALUES(?, 2, 0)
            ON CONFLICT(tenant) DO UPDATE SET state_version = request_lists.state_version + 1
            """, [.text(tenant)])
    }

    /// Tenants whose richieste.csv lags behind (or was never written by this release), with the
    /// version to record once it is written.
    public func staleRequestLists() throws -> [(tenant: String, version: Int)] {
        try database.query("""
            SELECT t.id AS tenant, coalesce(l.state_version, 1) AS version FROM tenants t LEFT JOIN request_lists l ON l.tenant = t.id
            WHERE coalesce(l.state_version, 1) <> coalesce(l.results_version, 0) ORDER BY t.id
            """, []) { (tenant: $0.text("tenant"), version: $0.int("version")) }
    }

    public func markRequestListWritten(tenant: String, version: Int) throws {
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            try database.run("""
                INSERT INTO request_lists(tenant, state_version, results_version) VALUES(?1, ?2, ?2)
                ON CONFLICT(tenant) DO UPDATE SET results_version =
                    CASE WHEN request_lists.results_version > ?2 THEN request_lists.results_version ELSE ?2 END
                """, [.text(tenant), .int(version)])
        }
    }
}
