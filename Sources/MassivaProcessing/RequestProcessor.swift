import MassivaCSV
import MassivaDatabase
import MassivaDomain
import MassivaRegistry
import MassivaSpool
import MassivaStore
import MassivaSystem

/// Moves requests along: the first pass over a queued request, and retries of waiting rows.
///
/// Each pass over one request is one transaction: the rows' outcomes, the associations they
/// create and the request's counters commit together or not at all, so a crash never leaves a
/// row associated twice or without its outcome once the pass runs again.
public final class RequestProcessor {
    public let store: StateStore
    public let rows: RowProcessor
    public let policy: ProcessingPolicy
    /// Every row decision is recorded here, in the pass's transaction (GDPR).
    public let audit: AuditTrail

    public init(store: StateStore, registry: any Registry, policy: ProcessingPolicy, outbox: Outbox? = nil) {
        self.store = store
        self.rows = RowProcessor(registry: registry, policy: policy, outbox: outbox)
        self.policy = policy
        self.audit = store.auditTrail()
    }

    /// What became of a request in one pass, for the log.
    public struct PassReport: Sendable, Equatable {
        public var id: RequestID
        public var tenant: String
        public var fileName: String
        public var status: RequestStatus
        public var rowsTotal: Int
        public var rowsFailed: Int
        public var rowsWaiting: Int
        public var reason: String?
    }

    /// Validates and tries every row of a queued request. Returns nil when it is no longer queued.
    /// `probe` answers check 15 (the answers of `probesForQueued`, asked in parallel before the
    /// pass); nil: the registry's own `probeReachability`.
    public func processQueued(_ id: RequestID, now: Double, probe: RowProcessor.Probe? = nil) throws -> PassReport? {
        try store.transaction { () throws -> PassReport? in
            let ahead = readAhead.removeValue(forKey: id)
            guard let request = try ahead?.request ?? store.request(id), request.status == .queued else { return nil }
            if let tenant = try ahead.map({ $0.tenant }) ?? store.tenant(request.tenant), !tenant.enabled {
                try store.setStatus(id, .rejected, reason: FileRejection.tenantDisabled.reason, now: now)
                return try report(id)
            }
            let context = AssociationContext(tenant: request.tenant, configurator: request.configurator,
                                             person: request.configuratorPerson, request: id.description)
            let checked: [(record: RowRecord, row: ValidRow?)]
            switch try ahead?.checked ?? checkedRows(id, now: now) {
            case .failure(let rejection):
                try store.setStatus(id, .rejected, reason: rejection.reason, now: now)
                return try report(id)
            case .success(let rows):
                // Read ahead of the pass, maybe: the rows refused by checks 1-5 are dated now.
                checked = rows.map { record, row in
                    var record = record
                    if row == nil { record.processedAt = now }
                    return (record, row)
                }
            }
            var records: [RowRecord] = []
            records.reserveCapacity(checked.count)
            let valid = checked.compactMap(\.row)
            try rows.registry.withLookups(pods: valid.map(\.pod), sids: valid.map(\.sid)) {
                for (record, row) in checked {
                    var record = record
                    if let row { try rows.attempt(row, record: &record, context: context, now: now, probe: probe) }
                    records.append(record)
                }
            }
            // A queued request has no rows before its first pass: these are all of them.
            try finishPass(id, records: records, allRows: records, context: context, now: now)
            return Self.report(request, rows: records)
        }
    }

    /// What a group of passes reads before its first (`readingAhead`), by request.
    private struct ReadAhead {
        var request: RequestRecord
        var tenant: Tenant?
        var checked: Result<[(record: RowRecord, row: ValidRow?)], FileRejection>
    }
    private var readAhead: [RequestID: ReadAhead] = [:]

    /// Runs `body`, the first passes of the queued requests among `ids`, with what they read
    /// read before it at once: the requests, their tenants and their uploads in two statements,
    /// and what the registry knows of every valid row's POD and device (`Registry.withLookups`,
    /// over the whole group). On PostgreSQL each read is a round trip that also waits for the
    /// writes sent before it (`Database.writingBehind`), so the group's passes then wait for
    /// nothing until the group's COMMIT, and the server inserts one request's rows while this
    /// thread checks the next one's. Call it in the transaction of `body` (the writers' lock
    /// held: nobody else changes the requests or the registry meanwhile); each pass takes what
    /// it was given once (`processQueued`), a request not queued reads as usual.
    public func readingAhead<T>(_ ids: [RequestID], now: Double, _ body: () throws -> T) throws -> T {
        defer { readAhead.removeAll() }
        let found = try store.requestsWithContent(ids).filter { $0.0.status == .queued }
        var tenants: [String: Tenant?] = [:]
        for (request, _) in found where tenants[request.tenant] == nil { tenants[request.tenant] = .some(try store.tenant(request.tenant)) }
        var pods: [String] = [], sids: [String] = []
        for (request, content) in found {
            let checked = checkedRows(content ?? [], now: now)
            readAhead[request.id] = ReadAhead(request: request, tenant: tenants[request.tenant] ?? nil, checked: checked)
            if case .success(let rows) = checked {
                for case let (_, row?) in rows { pods.append(row.pod); sids.append(row.sid) }
            }
        }
        return try rows.registry.withLookups(pods: pods, sids: sids, body)
    }

    /// The pass's report from what it knows: the request as read before the pass, and every row
    /// of it as the pass leaves them (the counters `StateStore.settle` stores, from the same
    /// rows), instead of reading the request back.
    static func report(_ request: RequestRecord, rows: [RowRecord]) -> PassReport {
        let waiting = rows.filter { $0.state == .waiting }.count
        return PassReport(id: request.id, tenant: request.tenant, fileName: request.fileName,
                          status: waiting == 0 ? .done : .processing, rowsTotal: rows.count,
                          rowsFailed: rows.filter { $0.state == .error }.count, rowsWaiting: waiting, reason: request.reason)
    }

    /// The data rows of a queued request with checks 1–5 done: each record, and its valid row
    /// when it passed them (to be tried against the registry). The file's rejection instead,
    /// when it is unusable as a whole.
    func checkedRows(_ id: RequestID, now: Double) throws -> Result<[(record: RowRecord, row: ValidRow?)], FileRejection> {
        checkedRows(try store.content(of: id) ?? [], now: now)
    }

    func checkedRows(_ content: [UInt8], now: Double) -> Result<[(record: RowRecord, row: ValidRow?)], FileRejection> {
        let dataRows: [DataRow]
        do throws(FileRejection) {
            dataRows = try Self.parse(content, maxRows: policy.maxRows)
        } catch {
            return .failure(error)
        }
        var validator = RowValidator()
        var out: [(record: RowRecord, row: ValidRow?)] = []
        out.reserveCapacity(dataRows.count)
        for (position, dataRow) in dataRows.enumerated() {
            let cells = dataRow.cells
            var record = RowRecord(position: position, line: dataRow.line,
                                   pod: cells.count > 0 ? cells[0] : "", sid: cells.count > 1 ? cells[1] : "",
                                   configuration: cells.count > 2 ? (ConfigurationType(parsing: cells[2])?.rawValue ?? cells[2]) : "",
                                   state: .error, code: .invalidRow)
            switch validator.check(dataRow) {
            case .refused(let code, let detail):
                record.code = code
                record.detail = detail
                record.processedAt = now
                out.append((record, nil))
            case .valid(let row):
                record.configuration = row.configurationType.rawValue
                out.append((record, row))
            }
        }
        return .success(out)
    }

    /// The probes the first pass of a queued request will need (its rows that get as far as
    /// check 15 now), read outside any write transaction.
    public func probesForQueued(_ id: RequestID, now: Double) throws -> [ProbeTarget] {
        guard let request = try store.request(id), request.status == .queued,
              try store.tenant(request.tenant)?.enabled ?? true,
              case .success(let checked) = try checkedRows(id, now: now) else { return [] }
        let context = AssociationContext(tenant: request.tenant, configurator: request.configurator,
                                         person: request.configuratorPerson, request: id.description)
        return try checked.compactMap { record, row in
            guard let row, let pod = try rows.podToProbe(row, record: record, context: context, now: now) else { return nil }
            return ProbeTarget(pod: pod, tenant: request.tenant, sid: row.sid, request: id.description)
        }
    }

    /// Tries again every waiting row of `id` that is due at `now`. A row that does not decode
    /// (`RecordError`, from the store or here) fails the whole request: never skipped, so the
    /// request does not stay due for ever.
    /// `dueBy` (default `now`) chooses the rows: those due then, the ones whose probes were
    /// asked before the pass, while `now` is the time of the attempt (its backoff counts from it).
    public func retryDue(_ id: RequestID, now: Double, dueBy: Double? = nil, probe: RowProcessor.Probe? = nil) throws -> PassReport? {
        try store.transaction { () throws -> PassReport? in
            guard let (request, context, due, all) = try dueRowsAndRequest(id, now: dueBy ?? now) else { return nil }
            var records: [RowRecord] = []
            try rows.registry.withLookups(pods: due.map(\.0.pod), sids: due.map(\.0.sid)) {
                for (row, record) in due {
                    var record = record
                    try rows.attempt(row, record: &record, context: context, now: now, probe: probe)
                    records.append(record)
                }
            }
            var after = Dictionary(uniqueKeysWithValues: all.map { ($0.position, $0) })
            for record in records { after[record.position] = record }
            let allRows = Array(after.values)
            try finishPass(id, records: records, allRows: allRows, context: context, now: now)
            return Self.report(request, rows: allRows)
        }
    }

    /// The waiting rows of a request still processing that are due at `now`.
    func dueRows(_ id: RequestID, now: Double) throws -> (AssociationContext, [(ValidRow, RowRecord)])? {
        try dueRowsAndRequest(id, now: now).map { ($0.context, $0.due) }
    }

    /// `dueRows`, with the request and all its rows as read.
    func dueRowsAndRequest(_ id: RequestID, now: Double)
        throws -> (request: RequestRecord, context: AssociationContext, due: [(ValidRow, RowRecord)], all: [RowRecord])? {
        guard let request = try store.request(id), request.status == .processing else { return nil }
        let context = AssociationContext(tenant: request.tenant, configurator: request.configurator,
                                         person: request.configuratorPerson, request: id.description)
        var due: [(ValidRow, RowRecord)] = []
        let all = try store.rows(of: id)
        for record in all where record.state == .waiting && (record.nextAttemptAt ?? 0) <= now {
            guard let type = record.configurationType else {
                throw RecordError(table: "rows", key: "\(id) row \(record.position + 1)", column: "configuration",
                                  value: record.configuration)
            }
            due.append((ValidRow(pod: record.pod, sid: record.sid, configurationType: type), record))
        }
        return (request, context, due, all)
    }

    /// The probes a retry of `id` at `now` will need.
    public func probesForDue(_ id: RequestID, now: Double) throws -> [ProbeTarget] {
        guard let (context, due) = try dueRows(id, now: now) else { return [] }
        return try due.compactMap { row, record in
            guard let pod = try rows.podToProbe(row, record: record, context: context, now: now) else { return nil }
            return ProbeTarget(pod: pod, tenant: context.tenant, sid: row.sid, request: id.description)
        }
    }

    /// Saves a pass's rows with their audit entries, marks the tenant's associazioni.csv stale
    /// when an association was made, and settles the request's counters: all in the pass's
    /// transaction.
    /// `allRows`: every row of the request once `records` are saved (its counters' source).
    func finishPass(_ id: RequestID, records: [RowRecord], allRows: [RowRecord], context: AssociationContext, now: Double) throws {
        try store.saveRows(records, of: id)
        try audit.recordRows(records, context: context, now: now)
        if records.contains(where: { $0.code == .ok }) { try store.markAssociationsChanged(tenant: context.tenant) }
        try store.settle(id, rows: allRows, now: now)
    }

    /// Marks a request rejected after an error that is neither a row's nor the registry's
    /// (a poison request must not stop the others).
    public func fail(_ id: RequestID, because error: Error, now: Double) throws {
        try store.transaction {
            // A system error's text names server paths, which no reason shown to an SI
            // contains: it goes to the log only (`request_failed`). Others (a stored value
            // that does not decode, say) are named.
            let detail = error is SystemError ? "errore durante l'elaborazione" : "\(error)"
            try store.setStatus(id, .rejected, reason: "Errore Interno contattare l'assistenza (\(detail))", now: now)
        }
    }

    func report(_ id: RequestID) throws -> PassReport? {
        guard let r = try store.request(id) else { return nil }
        return PassReport(id: id, tenant: r.tenant, fileName: r.fileName, status: r.status, rowsTotal: r.rowsTotal,
                          rowsFailed: r.rowsFailed, rowsWaiting: r.rowsTotal - r.rowsProcessed, reason: r.reason)
    }

    /// The bytes of a bulk file, read as the brief says, into data rows (`BulkFile.parse`).
    public static func parse(_ bytes: [UInt8], maxRows: Int) throws(FileRejection) -> [DataRow] {
        try BulkFile.parse(bytes, maxRows: maxRows)
    }
}
