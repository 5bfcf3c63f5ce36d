import MassivaDatabase
import MassivaDomain

/// The engine's own state in SQLite: tenants, requests (with the uploaded bytes), rows.
///
/// Every change that moves a request along happens in one transaction and bumps the request's
/// `state_version`; result files are refreshed from this state until `results_version` catches
/// up, so a crash between a commit and the file writes is repaired by the next pass.
public final class StateStore: @unchecked Sendable {
    /// The connection. Only MassivaStore reaches it: every other module goes through the
    /// store's methods and its `transaction`/`readTransaction`, so all SQL has one owner.
    package let database: Database

    /// Takes a connection to the spool's database and brings its schema up to date (a no-op,
    /// one `PRAGMA user_version`, when `Schema.open` already did).
    public init(database: Database) throws {
        self.database = database
        try Schema.migrate(database)
    }

    /// Throws `SchemaError.newerThanBinary` when a newer massiva has migrated the database since
    /// this store opened it (`Schema.ensureKnown`): the daemon asks before every pass.
    public func checkSchema() throws {
        try Schema.ensureKnown(database)
    }

    // MARK: Transactions

    /// Runs `body` in one write transaction (a savepoint when nested): all of it commits, or
    /// none of it. The one way a module outside MassivaStore groups changes.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.transaction(body)
    }

    /// Runs `body` in one read transaction: every read in it sees the same snapshot.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try database.readTransaction(body)
    }

    /// Runs `body` with its commits flushed to the disk before they return (the claim of an
    /// upload, whose file is removed after the commit).
    public func durably<T>(_ body: () throws -> T) throws -> T {
        try database.withFullSync(body)
    }

    /// The database file's path: the other threads (results, lists, courier, metrics) open
    /// connections of their own to it.
    public var databasePath: String { database.path }

    /// The audit trail on this store's connection.
    public func auditTrail() -> AuditTrail { AuditTrail(database: database) }

    /// The outbox of association events on this store's connection.
    public func outbox() -> Outbox { Outbox(database: database) }

    /// The metrics' counters on this store's connection.
    public func metricsStore() -> MetricsStore { MetricsStore(database: database) }

    /// Requests whose stored status is none this release knows, with that value.
    public func requestsWithUnknownStatus() throws -> [(RequestID, String)] {
        let known = RequestStatus.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try database.query("SELECT id, status FROM requests WHERE status NOT IN (\(known)) ORDER BY id", []) {
            (RequestID($0.int(0)), $0.text(1))
        }
    }

    // MARK: Tenants

    public func addTenant(id: String, name: String, now: Double) throws {
        try database.run("INSERT INTO tenants(id, name, enabled, created_at) VALUES(?, ?, 1, ?)", [.text(id), .text(name), .double(now)])
    }

    public func setTenant(_ id: String, enabled: Bool) throws -> Bool {
        try database.run("UPDATE tenants SET enabled = ? WHERE id = ?", [SQLValue(enabled), .text(id)])
        return database.changes > 0
    }

    public func tenants() throws -> [Tenant] {
        try database.query("SELECT id, name, enabled, created_at FROM tenants ORDER BY id", []) {
            Tenant(id: $0.text(0), name: $0.text(1), enabled: $0.bool(2), createdAt: $0.double(3))
        }
    }

    public func tenant(_ id: String) throws -> Tenant? {
        try database.queryOne("SELECT id, name, enabled, created_at FROM tenants WHERE id = ?", [.text(id)]) {
            Tenant(id: $0.text(0), name: $0.text(1), enabled: $0.bool(2), createdAt: $0.double(3))
        }
    }

    // MARK: Requests

    /// Records a new request. `claimName` makes the claim idempotent: a second call for the same
    /// claimed file returns the first request's id. `rowsTotal` is the number of data rows when
    /// the file was read at intake, so a queued request shows `0/N` (Figura 12) before its pass.
    /// `droppedAt`, the upload's modification time, starts its drop-to-result latency (the
    /// metrics); without it, its recording does.
    public func createRequest(tenant: String, fileName: String, configurator: String, configuratorPerson: PersonName = .unknown,
                              claimName: String?, content: [UInt8]?, rejection: FileRejection?, rowsTotal: Int = 0,
                              now: Double, droppedAt: Double? = nil) throws -> RequestID {
        if let claimName, let existing = try requestID(claimName: claimName) { return existing }
        let status: RequestStatus = rejection == nil ? .queued : .rejected
        try database.run("""
            INSERT INTO requests(tenant, file_name, configurator, claim_name, status, reason, content, submitted_at, completed_at,
                                 rows_total, configurator_given_name, configurator_surname, dropped_at)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(tenant), .text(fileName), .text(configurator), SQLValue(claimName), .text(status.rawValue),
                  SQLValue(rejection?.reason), content.map { .blob($0) } ?? .null, .double(now),
                  rejection == nil ? .null : .double(now), .int(rejection == nil ? max(0, rowsTotal) : 0),
                  .text(configuratorPerson.givenName), .text(configuratorPerson.surname), SQLValue(droppedAt.map { min($0, now) })])
        return RequestID(database.lastInsertRowID)
    }

    public func requestID(claimName: String) throws -> RequestID? {
        try database.queryOne("SELECT id FROM requests WHERE claim_name = ?", [.text(claimName)]) { RequestID($0.int(0)) }
    }

    static let requestColumns = """
        id, tenant, file_name, configurator, status, reason, note, rows_total, rows_processed, rows_failed,
        max_attempts_hit, submitted_at, completed_at, next_due_at, state_version, results_version,
        configurator_given_name, configurator_surname, results_state
        """

    static func request(_ s: Statement) throws(RecordError) -> RequestRecord {
        guard let status = RequestStatus(rawValue: s.text(4)) else {
            throw RecordError(table: "requests", key: RequestID(s.int(0)).description, column: "status", value: s.text(4))
        }
        guard let resultsState = RequestRecord.ResultsState(rawValue: s.text(18)) else {
            throw RecordError(table: "requests", key: RequestID(s.int(0)).description, column: "results_state", value: s.text(18))
        }
        return RequestRecord(id: RequestID(s.int(0)), tenant: s.text(1), fileName: s.text(2), configurator: s.text(3),
                      status: status, reason: s.optionalText(5), note: s.optionalText(6),
                      rowsTotal: s.int(7), rowsProcessed: s.int(8), rowsFailed: s.int(9), maxAttemptsHit: s.bool(10),
                      submittedAt: s.double(11), completedAt: s.optionalDouble(12), nextDueAt: s.optionalDouble(13),
                      stateVersion: s.int(14), resultsVersion: s.int(15),
                      resultsState: resultsState, configuratorPerson: PersonName(givenName: s.text(16), surname: s.text(17)))
    }

    public func request(_ id: RequestID) throws -> RequestRecord? {
        try database.queryOne("SELECT \(Self.requestColumns) FROM requests WHERE id = ?", [.int(id.number)], Self.request)
    }

    /// `requests(tenant:)` one at a time, for lists of any length.
    public func eachRequest(tenant: String, _ body: (RequestRecord) throws -> Void) throws {
        try database.each("SELECT \(Self.requestColumns) FROM requests WHERE tenant = ? ORDER BY id DESC", [.text(tenant)]) {
            try body(Self.request($0))
        }
    }

    /// Requests newest first, of one tenant or all.
    public func requests(tenant: String?) throws -> [RequestRecord] {
        if let tenant {
            return try database.query("SELECT \(Self.requestColumns) FROM requests WHERE tenant = ? ORDER BY id DESC", [.text(tenant)], Self.request)
        }
        return try database.query("SELECT \(Self.requestColumns) FROM requests ORDER BY id DESC", [], Self.request)
    }

    public func content(of id: RequestID) throws -> [UInt8]? {
        try database.queryOne("SELECT content FROM requests WHERE id = ? AND content IS NOT NULL", [.int(id.number)]) { $0.blob(0) }
    }

    /// Oldest queued requests first.
    public func queuedRequests(limit: Int) throws -> [RequestID] {
        try database.query("SELECT id FROM requests WHERE status = 'queued' ORDER BY id LIMIT ?", [.int(limit)]) { RequestID($0.int(0)) }
    }

    /// Requests with rows due for a retry at `now`, earliest first.
    public func dueRequests(now: Double, limit: Int) throws -> [RequestID] {
        try database.query("SELECT id FROM requests WHERE status = 'processing' AND next_due_at <= ? ORDER BY next_due_at LIMIT ?",
                           [.double(now), .int(limit)]) { RequestID($0.int(0)) }
    }

    /// When the next waiting row falls due, if any.
    public func nextDueTime() throws -> Double? {
        try database.queryOne("SELECT min(next_due_at) FROM requests WHERE status = 'processing'", []) { $0.optionalDouble(0) } ?? nil
    }

    /// Requests whose result files lag behind their state (those whose folder left `results/`
    /// stay out of it, whatever changes).
    public func staleRequests(limit: Int) throws -> [RequestRecord] {
        try database.query("""
            SELECT \(Self.requestColumns) FROM requests WHERE state_version <> results_version
            AND results_state IN ('present', 'restoring') ORDER BY id LIMIT ?
            """, [.int(limit)], Self.request)
    }

    /// Records that the result files of `id` show state `version` (a restored folder is then
    /// back: listed again), and that its tenant's richieste.csv is to be written after them.
    public func markResultsWritten(_ id: RequestID, version: Int) throws {
        try database.run("""
            UPDATE requests SET results_version = ?1,
                results_state = CASE results_state WHEN 'restoring' THEN 'present' ELSE results_state END
            WHERE id = ?2 AND results_version < ?1
            """, [.int(version), .int(id.number)])
        if database.changes > 0, let tenant = try database.queryOne("SELECT tenant FROM requests WHERE id = ?", [.int(id.number)], { $0.text(0) }) {
            try markRequestListChanged(tenant: tenant)
        }
    }

    public func setStatus(_ id: RequestID, _ status: RequestStatus, reason: String? = nil, now: Double) throws {
        try database.run("""
            UPDATE requests SET status = ?, reason = coalesce(?, reason), completed_at = CASE WHEN ? THEN ? ELSE completed_at END,
            state_version = state_version + 1 WHERE id = ?
            """, [.text(status.rawValue), SQLValue(reason), SQLValue(status.isFinal), .double(now), .int(id.number)])
    }

    public func setNote(_ id: RequestID, _ note: String) throws {
        try database.run("UPDATE requests SET note = ?, state_version = state_version + 1 WHERE id = ?", [.text(note), .int(id.number)])
    }

    /// Outcome of a cancellation.
    public enum CancelResult: Equatable, Sendable { case cancelled, notQueued(RequestStatus), notFound }

    /// Cancels `id` when it is still queued (and, when given, belongs to `tenant`).
    public func cancel(_ id: RequestID, tenant: String?, now: Double) throws -> CancelResult {
        try database.transaction {
            guard let request = try request(id), tenant == nil || request.tenant == tenant else { return CancelResult.notFound }
            guard request.status == .queued else {
                // A second cancellation of a cancelled request keeps the first answer.
                if request.status != .cancelled {
                    try setNote(id, "annullamento non eseguito: la richiesta era già \(Self.italian(request.status))")
                }
                return .notQueued(request.status)
            }
            try setStatus(id, .cancelled, reason: nil, now: now)
            try setNote(id, "annullata su richiesta")
            return .cancelled
        }
    }

    static func italian(_ status: RequestStatus) -> String {
        switch status {
        case .queued: return "in attesa"
        case .processing: return "in lavorazione"
        case .done: return "lavorata"
        case .cancelled: return "annullata"
        case .rejected: return "rifiutata"
        }
    }

    /// Makes every waiting row of `id` (or of every request) due now: `flush` and `retry`.
    @discardableResult
    public func makeDueNow(_ id: RequestID?, now: Double) throws -> Int {
        try database.transaction {
            if let id {
                try database.run("UPDATE rows SET next_attempt_at = ? WHERE request = ? AND state = 'waiting'", [.double(now), .int(id.number)])
                let n = database.changes
                try database.run("UPDATE requests SET next_due_at = ? WHERE id = ? AND status = 'processing'", [.double(now), .int(id.number)])
                return n
            }
            try database.run("UPDATE rows SET next_attempt_at = ? WHERE state = 'waiting'", [.double(now)])
            let n = database.changes
            try database.run("UPDATE requests SET next_due_at = ? WHERE status = 'processing'", [.double(now)])
            return n
        }
    }

    // MARK: Rows

    static let rowColumns = """
        position, line, pod, sid, configuration, nid, device_type, production_pod, matricola, eneltel, gesis,
        state, code, detail, attempts, next_attempt_at, processed_at
        """

    /// A row, decoded strictly: its state and code must be known values, and a row that passed
    /// check 4 (every row but those refused by checks 1–4) must hold a configuration type.
    static func row(_ s: Statement, request: RequestID) throws(RecordError) -> RowRecord {
        func bad(_ column: String, _ value: String) -> RecordError {
            RecordError(table: "rows", key: "\(request) row \(s.int(0) + 1)", column: column, value: value)
        }
        guard let state = RowRecord.State(rawValue: s.text(11)) else { throw bad("state", s.text(11)) }
        guard let code = RowCode(rawValue: s.text(12)) else { throw bad("code", s.text(12)) }
        var r = RowRecord(position: s.int(0), line: s.int(1), pod: s.text(2), sid: s.text(3), configuration: s.text(4),
                          state: state, code: code)
        if r.configurationType == nil && (state != .error || !RowCode.refusedBeforeConfigurationCheck.contains(code)) {
            throw bad("configuration", r.configuration)
        }
        r.nid = s.text(5); r.deviceType = s.text(6); r.productionPOD = s.text(7); r.matricola = s.text(8)
        r.eneltel = s.text(9); r.gesis = s.bool(10); r.detail = s.optionalText(13); r.attempts = s.int(14)
        r.nextAttemptAt = s.optionalDouble(15); r.processedAt = s.optionalDouble(16)
        return r
    }

    public func rows(of id: RequestID) throws -> [RowRecord] {
        try database.query("SELECT \(Self.rowColumns) FROM rows WHERE request = ? ORDER BY position", [.int(id.number)]) { s throws(RecordError) in
            try Self.row(s, request: id)
        }
    }

    /// Inserts a row, or replaces it when it exists (a retry).
    /// Inserts rows, or replaces those that exist (a retry), in few statements.
    public func saveRows(_ records: [RowRecord], of id: RequestID) throws {
        try database.insert(into: "rows", columns: "request, " + Self.rowColumns, columnCount: 18, rows: records.map { r in
            [.int(id.number), .int(r.position), .int(r.line), .text(r.pod), .text(r.sid), .text(r.configuration),
             .text(r.nid), .text(r.deviceType), .text(r.productionPOD), .text(r.matricola), .text(r.eneltel), SQLValue(r.gesis),
             .text(r.state.rawValue), .text(r.code.rawValue), SQLValue(r.detail), .int(r.attempts),
             SQLValue(r.nextAttemptAt), SQLValue(r.processedAt)]
        }, orReplace: true)
    }

    /// Recomputes a request's counters from its rows and moves it to `done` when no row waits.
    public func settle(_ id: RequestID, now: Double) throws {
        guard let c = try database.queryOne("""
            SELECT count(*), sum(state <> 'waiting'), sum(state = 'error'), sum(code = 'MAX_ATTEMPTS_REACHED'),
                   min(CASE WHEN state = 'waiting' THEN next_attempt_at END)
            FROM rows WHERE request = ?
            """, [.int(id.number)], { s in (s.int(0), s.int(1), s.int(2), s.int(3), s.optionalDouble(4)) }) else { return }
        let done = c.0 == c.1
        try database.run("""
            UPDATE requests SET rows_total = ?, rows_processed = ?, rows_failed = ?, max_attempts_hit = ?, next_due_at = ?,
            status = ?, completed_at = ?, state_version = state_version + 1 WHERE id = ?
            """, [.int(c.0), .int(c.1), .int(c.2), SQLValue(c.3 > 0), SQLValue(c.4),
                  .text(done ? RequestStatus.done.rawValue : RequestStatus.processing.rawValue),
                  done ? .double(now) : .null, .int(id.number)])
    }

    /// Figures for `status` and the daemon's STATUS= line. Rows wait only in a request still
    /// processing: one that failed as a whole (a record that did not decode) keeps its rows as
    /// they were, and they wait for nothing.
    public func queueFigures() throws -> (queued: Int, processing: Int, waitingRows: Int) {
        try database.queryOne("""
            SELECT (SELECT count(*) FROM requests WHERE status = 'queued'),
                   (SELECT count(*) FROM requests WHERE status = 'processing'),
                   (SELECT count(*) FROM rows r JOIN requests q ON q.id = r.request
                    WHERE r.state = 'waiting' AND q.status = 'processing')
            """, []) { ($0.int(0), $0.int(1), $0.int(2)) } ?? (0, 0, 0)
    }
}

// MARK: Association lists (associazioni.csv)

extension StateStore {
    // Per tenant (`association_lists`), the version of its associations and the version its
    // associazioni.csv shows. A tenant without a line there never had its list written (state
    // 1, results 0).

    /// Marks `tenant`'s associazioni.csv stale: call in the transaction that creates or deletes
    /// (`removed`) one of its associations. After a removal the list is written whole again;
    /// after creations only, the new lines are appended to a copy of it.
    public func markAssociationsChanged(tenant: String, removed: Bool = false) throws {
        try database.run("""
            INSERT INTO association_lists(tenant, state_version, results_version, removed_version) VALUES(?1, 2, 0, 2)
            ON CONFLICT(tenant) DO UPDATE SET state_version = state_version + 1,
                removed_version = CASE WHEN ?2 THEN state_version + 1 ELSE removed_version END
            """, [.text(tenant), SQLValue(removed)])
    }

    /// What a tenant's associazioni.csv holds, as last recorded.
    public struct AssociationListState: Sendable, Equatable {
        public var tenant: String
        /// The version to record once it is written.
        public var version: Int
        /// The version the file shows, and whether an association was removed since.
        public var writtenVersion: Int
        public var removedSinceWritten: Bool
        public var writtenLines: Int
        public var writtenThrough: (createdAt: Double, pod: String)?

        public static func == (a: Self, b: Self) -> Bool {
            a.tenant == b.tenant && a.version == b.version && a.writtenVersion == b.writtenVersion
                && a.removedSinceWritten == b.removedSinceWritten && a.writtenLines == b.writtenLines
                && a.writtenThrough?.createdAt == b.writtenThrough?.createdAt && a.writtenThrough?.pod == b.writtenThrough?.pod
        }
    }

    /// Tenants whose associazioni.csv lags behind their associations (or was never written).
    public func staleAssociationLists() throws -> [AssociationListState] {
        return try database.query("""
            SELECT t.id, coalesce(l.state_version, 1), coalesce(l.results_version, 0), coalesce(l.removed_version, 1),
                   coalesce(l.written_lines, 0), l.written_through_at, l.written_through_pod
            FROM tenants t LEFT JOIN association_lists l ON l.tenant = t.id
            WHERE coalesce(l.state_version, 1) <> coalesce(l.results_version, 0) ORDER BY t.id
            """, []) { s in
            AssociationListState(tenant: s.text(0), version: s.int(1), writtenVersion: s.int(2), removedSinceWritten: s.int(3) > s.int(2),
                                 writtenLines: s.int(4),
                                 writtenThrough: s.optionalDouble(5).flatMap { at in s.optionalText(6).map { (at, $0) } })
        }
    }

    /// Records that associazioni.csv shows `version`: `lines` associations, the last one
    /// `through` (nil: none).
    public func markAssociationListWritten(tenant: String, version: Int, lines: Int = 0,
                                           through: (createdAt: Double, pod: String)? = nil) throws {
        try database.run("""
            INSERT INTO association_lists(tenant, state_version, results_version, removed_version, written_lines,
                                          written_through_at, written_through_pod) VALUES(?1, ?2, ?2, 0, ?3, ?4, ?5)
            ON CONFLICT(tenant) DO UPDATE SET results_version = ?2, written_lines = ?3, written_through_at = ?4,
                written_through_pod = ?5 WHERE results_version < ?2
            """, [.text(tenant), .int(version), .int(lines), SQLValue(through?.createdAt), SQLValue(through?.pod)])
    }
}

// MARK: Request lists (richieste.csv)

/// One line of richieste.csv: what `eachListedRequest` reads (from the `requests_list` index alone).
public struct RequestListEntry: Sendable, Equatable {
    public var id: RequestID
    public var fileName: String
    public var submittedAt: Double
    public var completedAt: Double?
    public var rowsProcessed: Int
    public var rowsTotal: Int
    public var rowsFailed: Int
    public var status: RequestStatus
    public var maxAttemptsHit: Bool
    public var reason: String?

    public var outcomeLabel: String {
        RequestOutcome.label(status: status, rowsFailed: rowsFailed, maxAttemptsHit: maxAttemptsHit, reason: reason)
    }
}

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
            guard let status = RequestStatus(rawValue: s.text(7)) else {
                throw RecordError(table: "requests", key: RequestID(s.int(0)).description, column: "status", value: s.text(7))
            }
            try body(RequestListEntry(id: RequestID(s.int(0)), fileName: s.text(1), submittedAt: s.double(2), completedAt: s.optionalDouble(3),
                                      rowsProcessed: s.int(4), rowsTotal: s.int(5), rowsFailed: s.int(6), status: status,
                                      maxAttemptsHit: s.bool(8), reason: s.optionalText(9)))
        }
    }

    /// Marks `tenant`'s richieste.csv stale.
    public func markRequestListChanged(tenant: String) throws {
        try database.run("""
            INSERT INTO request_lists(tenant, state_version, results_version) VALUES(?, 2, 0)
            ON CONFLICT(tenant) DO UPDATE SET state_version = state_version + 1
            """, [.text(tenant)])
    }

    /// Tenants whose richieste.csv lags behind (or was never written by this release), with the
    /// version to record once it is written.
    public func staleRequestLists() throws -> [(tenant: String, version: Int)] {
        try database.query("""
            SELECT t.id, coalesce(l.state_version, 1) FROM tenants t LEFT JOIN request_lists l ON l.tenant = t.id
            WHERE coalesce(l.state_version, 1) <> coalesce(l.results_version, 0) ORDER BY t.id
            """, []) { (tenant: $0.text(0), version: $0.int(1)) }
    }

    public func markRequestListWritten(tenant: String, version: Int) throws {
        try database.run("""
            INSERT INTO request_lists(tenant, state_version, results_version) VALUES(?1, ?2, ?2)
            ON CONFLICT(tenant) DO UPDATE SET results_version = max(results_version, ?2)
            """, [.text(tenant), .int(version)])
    }
}

// MARK: Retention (result_retention)

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
                """, [.double(cutoff), .int(limit)]) { (id: $0.int(0), tenant: $0.text(1)) }
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
            SELECT r.id, r.tenant FROM requests r JOIN request_lists l ON l.tenant = r.tenant
            WHERE r.results_state = 'retiring' AND l.state_version = l.results_version ORDER BY r.id LIMIT ?
            """, [.int(limit)]) { (id: RequestID($0.int(0)), tenant: $0.text(1)) }
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
