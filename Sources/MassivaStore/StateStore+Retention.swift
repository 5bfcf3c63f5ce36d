import MassivaDatabase
import MassivaDomain

// MARK: Retention (result_retention: a request's folder leaving results/)

extension StateStore {
    // A request's folder leaves results/ in four steps, each one safe to repeat after a crash:
    // 1. `retire`: present -> retiring and its tenant's list stale, in one transaction (the
    //    database first: from then on nothing writes that folder again);
    // 2. richieste.csv is written without it;
    // 3. only then (`retiringRequests` waits for 2) its folder is removed;
    // 4. `markRemoved`: retiring -> removed.
    // So richieste.csv never lists a folder that is not there.

    /// Moves up to `limit` requests finished (and not restored) before `cutoff` to `retiring`.
    /// Returns how many.
    @discardableResult
    public func retire(finishedBefore cutoff: Double, limit: Int) throws -> Int {
        // Read first: the lists' thread asks after every burst of work, and a write
        // transaction each time would take the engine's write lock for nothing.
        guard try database.queryOne("""
            SELECT 1 FROM requests WHERE results_state = 'present' AND completed_at < ?1 AND (restored_at IS NULL OR restored_at < ?1) LIMIT 1
            """, [.double(cutoff)], { _ in true }) != nil else { return 0 }
        return try database.transaction {
            let due = try database.query("""
                SELECT id, tenant FROM requests WHERE results_state = 'present' AND completed_at < ?1
                AND (restored_at IS NULL OR restored_at < ?1) ORDER BY completed_at LIMIT ?2
                """, [.double(cutoff), .int(limit)]) { (id: $0.int("id"), tenant: $0.text("tenant")) }
            for r in due {
                try database.run("UPDATE requests SET results_state = 'retiring' WHERE id = ?", [.int(r.id)])
            }
            for tenant in Set(due.map(\.tenant)) { try markRequestListChanged(tenant: tenant) }
            return due.count
        }
    }

    /// Retiring requests whose tenant's richieste.csv no longer lists them (step 3 may run).
    public func retiringRequests(limit: Int) throws -> [(id: RequestID, tenant: String)] {
        try database.query("""
            SELECT r.id AS id, r.tenant AS tenant FROM requests r JOIN request_lists l ON l.tenant = r.tenant
            WHERE r.results_state = 'retiring' AND l.state_version = l.results_version ORDER BY r.id LIMIT ?
            """, [.int(limit)]) { (id: RequestID($0.int("id")), tenant: $0.text("tenant")) }
    }

    /// Step 4: the folders are gone (a request restored meanwhile stays as it is).
    public func markRemoved(_ ids: [RequestID]) throws {
        try database.transaction {
            for id in ids {
                try database.run("UPDATE requests SET results_state = 'removed' WHERE id = ? AND results_state = 'retiring'", [.int(id.number)])
            }
        }
    }

    /// Outcome of `restore`.
    public enum RestoreResult: Equatable, Sendable { case restoring, alreadyPresent, notFound }

    /// `show REQ --restore`: the folder of a retired request is written back (and listed again
    /// once written), and its retention period starts again from `now`.
    public func restore(_ id: RequestID, now: Double) throws -> RestoreResult {
        try database.transaction {
            guard let request = try request(id) else { return RestoreResult.notFound }
            guard request.resultsState == .retiring || request.resultsState == .removed else { return .alreadyPresent }
            try database.run("""
                UPDATE requests SET results_state = 'restoring', restored_at = ?, state_version = state_version + 1 WHERE id = ?
                """, [.double(now), .int(id.number)])
            return .restoring
        }
    }
}
