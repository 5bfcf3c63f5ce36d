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

    /// Recomputes a request's counters from its rows and moves it to `done` when no row waits.
    public func settle(_ id: RequestID, now: Double) throws {
        guard let c = try database.queryOne("""
            SELECT count(*) AS total, count(CASE WHEN state <> 'waiting' THEN 1 END) AS processed,
                   count(CASE WHEN state = 'error' THEN 1 END) AS failed,
                   count(CASE WHEN code = 'MAX_ATTEMPTS_REACHED' THEN 1 END) AS max_attempts, min(CASE WHEN state = 'waiting' THEN next_attempt_at END) AS next_due
            FROM rows WHERE request = ?
            """, [.int(id.number)], { s in
                (total: s.int("total"), processed: s.int("processed"), failed: s.int("failed"),
                 maxAttempts: s.int("max_attempts"), nextDue: s.optionalDouble("next_due"))
            }) else { return }
        let done = c.total == c.processed
        try database.run("""
            UPDATE requests SET rows_total = ?, rows_processed = ?, rows_failed = ?, max_attempts_hit = ?, next_due_at = ?,
            status = ?, completed_at = ?, state_version = state_version + 1 WHERE id = ?
            """, [.int(c.total), .int(c.processed), .int(c.failed), SQLValue(c.maxAttempts > 0), SQLValue(c.nextDue),
                  .text(done ? RequestStatus.done.rawValue : RequestStatus.processing.rawValue),
                  done ? .double(now) : .null, .int(id.number)])
    }
}
