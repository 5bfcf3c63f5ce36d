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

    /// Sets a request's counters from `rows`, every row of it as the pass leaves them (the pass
    /// has them all: a first pass made them, a retry read them), and moves it to `done` when no
    /// row waits. One UPDATE by the key, which reads nothing back: on PostgreSQL a pass's writes
    /// are sent without waiting for their answers (`Database.writingBehind`), and counting the
    /// rows on the server was 0.35 ms of its time a request (scripts/bench's server log).
    public func settle(_ id: RequestID, rows: [RowRecord], now: Double) throws {
        var processed = 0, failed = 0, maxAttempts = false
        var nextDue: Double?
        for row in rows {
            if row.state == .waiting {
                if let at = row.nextAttemptAt { nextDue = min(nextDue ?? at, at) }
            } else {
                processed += 1
            }
            if row.state == .error { failed += 1 }
            if row.code == .maxAttemptsReached { maxAttempts = true }
        }
        let done = processed == rows.count
        try database.run("""
            UPDATE requests SET rows_total = ?, rows_processed = ?, rows_failed = ?, max_attempts_hit = ?, next_due_at = ?,
            status = ?, completed_at = ?, state_version = state_version + 1 WHERE id = ?
            """, [.int(rows.count), .int(processed), .int(failed), SQLValue(maxAttempts), SQLValue(nextDue),
                  .text(done ? RequestStatus.done.rawValue : RequestStatus.processing.rawValue),
                  done ? .double(now) : .null, .int(id.number)])
    }
}
