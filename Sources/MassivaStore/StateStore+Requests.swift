import MassivaDatabase
import MassivaDomain

// MARK: Requests (the `requests` table)

extension StateStore {
    /// Records a new request. `claimName` makes the claim idempotent: a second call for the same
    /// claimed file returns the first request's id. `rowsTotal` is the number of data rows when
    /// the file was read at intake, so a queued request shows `0/N` (Figura 12) before its pass.
    /// `droppedAt`, the upload's modification time, starts its drop-to-result latency (the
    /// metrics); without it, its recording does.
    /// `contentDigest` (SHA-256 of `content`) is what a later re-upload is recognised by
    /// (`earlierUpload`); `duplicateOf`, the request a rejected re-upload repeats.
    public func createRequest(tenant: String, fileName: String, configurator: String, configuratorPerson: PersonName = .unknown,
                              claimName: String?, content: [UInt8]?, rejection: FileRejection?, rowsTotal: Int = 0,
                              now: Double, droppedAt: Double? = nil, contentDigest: [UInt8]? = nil,
                              duplicateOf: RequestID? = nil) throws -> RequestID {
        let status: RequestStatus = rejection == nil ? .queued : .rejected
        // RETURNING (SQLite 3.35, PostgreSQL): the new id from the statement itself; none when
        // the claim was recorded already (ON CONFLICT ... DO NOTHING), whose id is then read.
        // One round trip on PostgreSQL where a look-up first made two.
        let id = try database.queryOne("""
            INSERT INTO requests(tenant, file_name, configurator, claim_name, status, reason, content, submitted_at, completed_at,
                                 rows_total, configurator_given_name, configurator_surname, dropped_at, content_digest, duplicate_of)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(claim_name) DO NOTHING RETURNING id
            """, [.text(tenant), .text(fileName), .text(configurator), SQLValue(claimName), .text(status.rawValue),
                  SQLValue(rejection?.reason), content.map { .blob($0) } ?? .null, .double(now),
                  rejection == nil ? .null : .double(now), .int(rejection == nil ? max(0, rowsTotal) : 0),
                  .text(configuratorPerson.givenName), .text(configuratorPerson.surname), SQLValue(droppedAt.map { min($0, now) }),
                  contentDigest.map { .blob($0) } ?? .null, duplicateOf.map { .int($0.number) } ?? .null]) { $0.int("id") }
        if let id { return RequestID(id) }
        if let claimName, let existing = try requestID(claimName: claimName) { return existing }
        throw DatabaseError(code: 1, message: "INSERT INTO requests returned no id", sql: nil)
    }

    public func requestID(claimName: String) throws -> RequestID? {
        try database.queryOne("SELECT id FROM requests WHERE claim_name = ?", [.text(claimName)]) { RequestID($0.int("id")) }
    }

    /// The size in bytes of each request's upload among `ids` (0 without one): how much reading
    /// them ahead holds in memory (`Engine.runGrouped`).
    public func contentSizes(_ ids: [RequestID]) throws -> [RequestID: Int] {
        var sizes: [RequestID: Int] = [:]
        let size = database.dialect(sqlite: "length(content)", postgresql: "octet_length(content)")
        for chunk in Self.paddedChunks(ids) {
            for (id, bytes) in try database.query("""
                SELECT id, coalesce(\(size), 0) AS size FROM requests WHERE id IN (\(Self.placeholders(chunk.count)))
                """, chunk.map { .int($0.number) }, { (RequestID($0.int("id")), $0.int("size")) }) {
                sizes[id] = bytes
            }
        }
        return sizes
    }

    /// `requestID(claimName:)` for many claims: those recorded, by claim name. A statement for
    /// up to 256 names (`paddedChunks`).
    public func requestIDs(claimNames: [String]) throws -> [String: RequestID] {
        var found: [String: RequestID] = [:]
        for chunk in Self.paddedChunks(claimNames) {
            for (name, id) in try database.query("SELECT claim_name, id FROM requests WHERE claim_name IN (\(Self.placeholders(chunk.count)))",
                                                 chunk.map { .text($0) }, { ($0.text("claim_name"), RequestID($0.int("id"))) }) {
                found[name] = id
            }
        }
        return found
    }

    /// `items` in chunks of at most 256, each padded to a power of two with its last item
    /// repeated (harmless in an `IN` list or a join): few statement texts, each prepared once.
    static func paddedChunks<T>(_ items: [T]) -> [[T]] {
        stride(from: 0, to: items.count, by: 256).map { start in
            let chunk = Array(items[start..<min(start + 256, items.count)])
            var width = 1
            while width < chunk.count { width *= 2 }
            return chunk + Array(repeating: chunk.last!, count: width - chunk.count)
        }
    }

    /// `count` placeholders, comma-separated.
    static func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    /// The columns `request(_:)` decodes, by name: any order, and more columns, would do.
    static let requestColumns = """
        id, tenant, file_name, configurator, status, reason, note, rows_total, rows_processed, rows_failed,
        max_attempts_hit, submitted_at, completed_at, next_due_at, state_version, results_version,
        configurator_given_name, configurator_surname, results_state
        """

    /// A request, decoded strictly: its status and results state must be known values.
    static func request(_ s: Statement) throws(RecordError) -> RequestRecord {
        let id = RequestID(s.int("id"))
        guard let status = RequestStatus(rawValue: s.text("status")) else {
            throw RecordError(table: "requests", key: id.description, column: "status", value: s.text("status"))
        }
        guard let resultsState = RequestRecord.ResultsState(rawValue: s.text("results_state")) else {
            throw RecordError(table: "requests", key: id.description, column: "results_state", value: s.text("results_state"))
        }
        return RequestRecord(id: id, tenant: s.text("tenant"), fileName: s.text("file_name"), configurator: s.text("configurator"),
                             status: status, reason: s.optionalText("reason"), note: s.optionalText("note"),
                             rowsTotal: s.int("rows_total"), rowsProcessed: s.int("rows_processed"), rowsFailed: s.int("rows_failed"),
                             maxAttemptsHit: s.bool("max_attempts_hit"), submittedAt: s.double("submitted_at"),
                             completedAt: s.optionalDouble("completed_at"), nextDueAt: s.optionalDouble("next_due_at"),
                             stateVersion: s.int("state_version"), resultsVersion: s.int("results_version"),
                             resultsState: resultsState,
                             configuratorPerson: PersonName(givenName: s.text("configurator_given_name"),
                                                            surname: s.text("configurator_surname")))
    }

    /// Requests with their uploaded bytes, read at once (a statement for them all, not two per
    /// request): what a group of passes starts from (`RequestProcessor.readingAhead`).
    public func requestsWithContent(_ ids: [RequestID]) throws -> [(RequestRecord, [UInt8]?)] {
        guard !ids.isEmpty else { return [] }
        let list = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return try database.query("SELECT \(Self.requestColumns), content FROM requests WHERE id IN (\(list))",
                                  ids.map { .int($0.number) }) { s in
            (try Self.request(s), s.isNull("content") ? nil : s.blob("content"))
        }
    }

    public func request(_ id: RequestID) throws -> RequestRecord? {
        try database.queryOne("SELECT \(Self.requestColumns) FROM requests WHERE id = ?", [.int(id.number)], Self.request)
    }

    /// Requests newest first, of one tenant or all.
    public func requests(tenant: String?) throws -> [RequestRecord] {
        if let tenant {
            return try database.query("SELECT \(Self.requestColumns) FROM requests WHERE tenant = ? ORDER BY id DESC", [.text(tenant)], Self.request)
        }
        return try database.query("SELECT \(Self.requestColumns) FROM requests ORDER BY id DESC", [], Self.request)
    }

    /// Requests whose stored status is none this release knows, with that value.
    public func requestsWithUnknownStatus() throws -> [(RequestID, String)] {
        let known = RequestStatus.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try database.query("SELECT id, status FROM requests WHERE status NOT IN (\(known)) ORDER BY id", []) {
            (RequestID($0.int("id")), $0.text("status"))
        }
    }

    public func content(of id: RequestID) throws -> [UInt8]? {
        try database.queryOne("SELECT content FROM requests WHERE id = ? AND content IS NOT NULL", [.int(id.number)]) { $0.blob("content") }
    }

    /// When the next waiting row falls due, if any.
    public func nextDueTime() throws -> Double? {
        try database.queryOne("SELECT min(next_due_at) AS next_due_at FROM requests WHERE status = 'processing'", []) {
            $0.optionalDouble("next_due_at")
        } ?? nil
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
    /// The first time the files show a final state, `now` is the request's result time, where
    /// its drop-to-result latency ends (the metrics' trigger, migration 7).
    public func markResultsWritten(_ id: RequestID, version: Int, now: Double) throws {
        try markResultsWritten([(id, version)], now: now)
    }

    /// `markResultsWritten` for several requests, in one transaction: one statement for up to
    /// 256 requests, and one per tenant whose list changed. A statement per request was a round
    /// trip each on PostgreSQL, waited for in turn, and every request is recorded twice
    /// (processing, then done): two round trips a request, a twentieth of scripts/bench's time
    /// there (the server's log, `log_min_duration_statement = 0`).
    public func markResultsWritten(_ written: [(id: RequestID, version: Int)], now: Double) throws {
        if written.isEmpty { return }
        // A request recorded twice in one call: its newest version, as the UPDATEs in turn did
        // (`results_version < version` kept the greatest).
        var newest: [Int: Int] = [:]
        for (id, version) in written { newest[id.number] = max(newest[id.number] ?? version, version) }
        let pairs = newest.sorted { $0.key < $1.key }
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            var tenants: Set<String> = []
            // Padded (`paddedChunks`): an UPDATE changes a row once, whatever its repeats.
            for chunk in Self.paddedChunks(pairs) {
                var bindings: [SQLValue] = [.double(now)]
                for pair in chunk { bindings += [.int(pair.key), .int(pair.value)] }
                // (id, version): VALUES names its columns column1, column2 on both engines (SQLite
                // takes no column names after a subquery's alias).
                let values = Array(repeating: "(CAST(? AS BIGINT), CAST(? AS BIGINT))", count: chunk.count).joined(separator: ", ")
                // RETURNING: the tenant of each row the UPDATE changed (SQLite 3.35 and later).
                for tenant in try database.query("""
                    UPDATE requests SET results_version = w.column2,
                        results_state = CASE results_state WHEN 'restoring' THEN 'present' ELSE results_state END,
                        result_at = CASE WHEN result_at IS NULL AND status IN ('done', 'rejected', 'cancelled') AND w.column2 >= state_version
                                         THEN ?1 ELSE result_at END
                    FROM (VALUES \(values)) AS w
                    WHERE requests.id = w.column1 AND requests.results_version < w.column2
                    RETURNING tenant
                    """, bindings, { $0.text("tenant") }) {
                    tenants.insert(tenant)
                }
            }
            for tenant in tenants.sorted() { try markRequestListChanged(tenant: tenant) }
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
                // A second cancellation of a cancelled request keeps the first answer. The
                // request's outcome in the portal's own words (RequestOutcome, in Domain).
                if request.status != .cancelled {
                    try setNote(id, "annullamento non eseguito: la richiesta non è più in attesa (\(request.outcomeLabel))")
                }
                return .notQueued(request.status)
            }
            try setStatus(id, .cancelled, reason: nil, now: now)
            try setNote(id, "annullata su richiesta")
            return .cancelled
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

    /// Figures for `status` and the daemon's STATUS= line. Rows wait only in a request still
    /// processing: one that failed as a whole (a record that did not decode) keeps its rows as
    /// they were, and they wait for nothing.
    public func queueFigures() throws -> (queued: Int, processing: Int, waitingRows: Int) {
        try database.queryOne("""
            SELECT (SELECT count(*) FROM requests WHERE status = 'queued') AS queued,
                   (SELECT count(*) FROM requests WHERE status = 'processing') AS processing,
                   (SELECT count(*) FROM rows r JOIN requests q ON q.id = r.request
                    WHERE r.state = 'waiting' AND q.status = 'processing') AS waiting_rows
            """, []) { ($0.int("queued"), $0.int("processing"), $0.int("waiting_rows")) } ?? (0, 0, 0)
    }
}
