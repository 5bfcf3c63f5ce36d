import MassivaDatabase
import MassivaDomain

/// What was done with a customer's data (GDPR): one entry per search, single association,
/// dissociation and bulk-row decision.
public struct AuditEntry: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        /// `massiva search`: the POD's supply data was shown.
        case search
        /// `massiva associate`.
        case associate
        /// `massiva dissociate`.
        case dissociate
        /// `massiva scp`: the SCP file of an existing association was downloaded again.
        case scp
        /// `massiva report`: the association report was shown (the filters in the detail).
        case report
        /// One attempt at a row of a bulk request (including rows refused by checks 1–5).
        case bulkRow = "bulk_row"
    }

    /// Assigned by the database; 0 before the entry is recorded.
    public var id: Int
    public var at: Double
    public var tenant: String
    public var configurator: String
    public var action: Action
    public var pod: String
    public var sid: String
    /// The bulk request, for `bulkRow`.
    public var request: String?
    /// A stable code: a `RowCode` raw value, or a service outcome (`OK`, `POD_NOT_FOUND`,
    /// `SERVICE_UNAVAILABLE`, `NOT_ASSOCIATED`, …).
    public var outcome: String
    /// Human-readable detail (Italian message), may be empty.
    public var detail: String

    public init(id: Int = 0, at: Double, tenant: String, configurator: String, action: Action, pod: String,
                sid: String = "", request: String? = nil, outcome: String, detail: String = "") {
        self.id = id
        self.at = at
        self.tenant = tenant
        self.configurator = configurator
        self.action = action
        self.pod = pod
        self.sid = sid
        self.request = request
        self.outcome = outcome
        self.detail = detail
    }
}

/// The append-only audit table in the state database.
///
/// Entries are written in the caller's transaction, so a bulk row's decision and its audit entry
/// commit (or roll back, on a registry outage) together. SQLite triggers refuse every UPDATE and
/// DELETE of the table: no command can edit or remove an entry.
public final class AuditTrail: @unchecked Sendable {
    public let database: Database

    /// On a connection whose schema is current (`Schema.open`, or a `StateStore` made on it):
    /// the table is migration 1's, never created here.
    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: AuditEntry) throws {
        try database.run("""
            INSERT INTO audit(at, tenant, configurator, action, pod, sid, request, outcome, detail)
            VALUES(?,?,?,?,?,?,?,?,?)
            """, [.double(entry.at), .text(entry.tenant), .text(entry.configurator), .text(entry.action.rawValue),
                  .text(entry.pod), .text(entry.sid), SQLValue(entry.request), .text(entry.outcome), .text(entry.detail)])
    }

    /// Records the decisions just taken on bulk rows, in few statements.
    public func recordRows(_ rows: [RowRecord], context: AssociationContext, now: Double) throws {
        try database.insert(into: "audit", columns: "at, tenant, configurator, action, pod, sid, request, outcome, detail",
                            columnCount: 9, rows: rows.map { row in
            [.double(row.processedAt ?? now), .text(context.tenant), .text(context.configurator), .text(AuditEntry.Action.bulkRow.rawValue),
             .text(row.pod), .text(row.sid), SQLValue(context.request), .text(row.code.rawValue), .text(Self.detail(of: row))]
        })
    }

    /// What the code alone does not say (its Italian wording follows from the code): the
    /// check's detail, or the production POD bound.
    static func detail(of row: RowRecord) -> String {
        if let detail = row.detail { return detail }
        return row.productionPOD.isEmpty ? "" : "POD di produzione \(row.productionPOD)"
    }

    /// Filters of `entries`; nil means any. Times are epoch seconds, `from` inclusive, `to` exclusive.
    public struct Filter: Sendable, Equatable {
        public var tenant: String?
        public var pod: String?
        public var from: Double?
        public var to: Double?

        public init(tenant: String? = nil, pod: String? = nil, from: Double? = nil, to: Double? = nil) {
            self.tenant = tenant
            self.pod = pod
            self.from = from
            self.to = to
        }
    }

    /// Entries matching `filter`, oldest first.
    public func entries(_ filter: Filter = Filter()) throws -> [AuditEntry] {
        // The casts give PostgreSQL each parameter's type (`$1 IS NULL` alone says none);
        // SQLite reads DOUBLE PRECISION as REAL, and a cast NULL is NULL on both.
        try database.query("""
            SELECT id, at, tenant, configurator, action, pod, sid, request, outcome, detail FROM audit
            WHERE (CAST(?1 AS TEXT) IS NULL OR tenant = ?1) AND (CAST(?2 AS TEXT) IS NULL OR pod = ?2)
              AND (CAST(?3 AS DOUBLE PRECISION) IS NULL OR at >= ?3) AND (CAST(?4 AS DOUBLE PRECISION) IS NULL OR at < ?4)
            ORDER BY id
            """, [SQLValue(filter.tenant), SQLValue(filter.pod), SQLValue(filter.from), SQLValue(filter.to)]) { s in
            guard let action = AuditEntry.Action(rawValue: s.text("action")) else {
                throw RecordError(table: "audit", key: String(s.int("id")), column: "action", value: s.text("action"))
            }
            return AuditEntry(id: s.int("id"), at: s.double("at"), tenant: s.text("tenant"), configurator: s.text("configurator"),
                              action: action, pod: s.text("pod"), sid: s.text("sid"),
                              request: s.optionalText("request"), outcome: s.text("outcome"), detail: s.text("detail"))
        }
    }
}
