import MassivaDatabase
import MassivaDomain

// MARK: Rows (the `rows` table: one line of an upload each)

extension StateStore {
    /// The columns `row(_:request:)` decodes, by name; `saveRows` writes them in this order.
    static let rowColumns = """
        position, line, pod, sid, configuration, nid, device_type, production_pod, matricola, eneltel, gesis,
        state, code, detail, attempts, next_attempt_at, processed_at
        """

    /// A row, decoded strictly: its state and code must be known values, and a row that passed
    /// check 4 (every row but those refused by checks 1–4) must hold a configuration type.
    static func row(_ s: Statement, request: RequestID) throws(RecordError) -> RowRecord {
        let position = s.int("position")
        func bad(_ column: String, _ value: String) -> RecordError {
            RecordError(table: "rows", key: "\(request) row \(position + 1)", column: column, value: value)
        }
        guard let state = RowRecord.State(rawValue: s.text("state")) else { throw bad("state", s.text("state")) }
        guard let code = RowCode(rawValue: s.text("code")) else { throw bad("code", s.text("code")) }
        var r = RowRecord(position: position, line: s.int("line"), pod: s.text("pod"), sid: s.text("sid"),
                          configuration: s.text("configuration"), state: state, code: code)
        if r.configurationType == nil && (state != .error || !RowCode.refusedBeforeConfigurationCheck.contains(code)) {
            throw bad("configuration", r.configuration)
        }
        r.nid = s.text("nid"); r.deviceType = s.text("device_type"); r.productionPOD = s.text("production_pod")
        r.matricola = s.text("matricola"); r.eneltel = s.text("eneltel"); r.gesis = s.bool("gesis")
        r.detail = s.optionalText("detail"); r.attempts = s.int("attempts")
        r.nextAttemptAt = s.optionalDouble("next_attempt_at"); r.processedAt = s.optionalDouble("processed_at")
        return r
    }

    public func rows(of id: RequestID) throws -> [RowRecord] {
        try database.query("SELECT \(Self.rowColumns) FROM rows WHERE request = ? ORDER BY position", [.int(id.number)]) { s throws(RecordError) in
            try Self.row(s, request: id)
        }
    }

    /// Inserts rows, or replaces those that exist (a retry), in few statements.
    public func saveRows(_ records: [RowRecord], of id: RequestID) throws {
        try database.insert(into: "rows", columns: "request, " + Self.rowColumns, columnCount: 18, rows: records.map { r in
            [.int(id.number), .int(r.position), .int(r.line), .text(r.pod), .text(r.sid), .text(r.configuration),
             .text(r.nid), .text(r.deviceType), .text(r.productionPOD), .text(r.matricola), .text(r.eneltel), SQLValue(r.gesis),
             .text(r.state.rawValue), .text(r.code.rawValue), SQLValue(r.detail), .int(r.attempts),
             SQLValue(r.nextAttemptAt), SQLValue(r.processedAt)]
        }, replacingOn: "request, position")
    }

    /// Recomputes a request's counters from its rows and moves it to `done` when no row waits:
    /// one statement, which reads nothing back (on PostgreSQL a pass's writes are sent without
    /// waiting for their answers: `Database.writingBehind`).
    public func settle(_ id: RequestID, now: Double) throws {
        try database.run("""
            UPDATE requests SET rows_total = c.total, rows_processed = c.processed, rows_failed = c.failed,
                max_attempts_hit = CASE WHEN c.max_attempts > 0 THEN 1 ELSE 0 END, next_due_at = c.next_due,
                status = CASE WHEN c.total = c.processed THEN 'done' ELSE 'processing' END,
                completed_at = CASE WHEN c.total = c.processed THEN CAST(?2 AS DOUBLE PRECISION) END,
                state_version = state_version + 1
            FROM (SELECT count(*) AS total, count(CASE WHEN state <> 'waiting' THEN 1 END) AS processed,
                         count(CASE WHEN state = 'error' THEN 1 END) AS failed,
                         count(CASE WHEN code = 'MAX_ATTEMPTS_REACHED' THEN 1 END) AS max_attempts,
                         min(CASE WHEN state = 'waiting' THEN next_attempt_at END) AS next_due
                  FROM rows WHERE request = ?1) AS c
            WHERE requests.id = ?1
            """, [.int(id.number), .double(now)])
    }
}
