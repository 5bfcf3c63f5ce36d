import MassivaDatabase
import MassivaDomain

/// The registry kept in SQLite tables, loaded by `massiva registry import`.
public final class EmbeddedRegistry: Registry, @unchecked Sendable {
    public let database: Database
    /// The reachability setting of the last POD looked up (master data, not probe state).
    private var lastLookup: (pod: String, reachability: String)?

    public init(database: Database) throws {
        self.database = database
        try Self.createSchema(database)
    }

    static func createSchema(_ db: Database) throws {
        try db.execute("""
        CREATE TABLE IF NOT EXISTS pods(
            pod TEXT PRIMARY KEY, eneltel TEXT NOT NULL, matricola TEXT NOT NULL,
            meter_type TEXT NOT NULL, exchange_pod TEXT, telemanaged INTEGER NOT NULL,
            eligible INTEGER NOT NULL, reachability TEXT NOT NULL, holder_tax_code TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS pods_by_exchange ON pods(exchange_pod) WHERE exchange_pod IS NOT NULL;
        CREATE TABLE IF NOT EXISTS devices(
            sid TEXT PRIMARY KEY, nid TEXT NOT NULL, device_type TEXT NOT NULL, owner TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS probe_counts(pod TEXT PRIMARY KEY, probes INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS associations(
            pod TEXT PRIMARY KEY, sid TEXT NOT NULL UNIQUE, nid TEXT NOT NULL, device_type TEXT NOT NULL,
            configuration_type TEXT NOT NULL, production_pod TEXT, tenant TEXT NOT NULL,
            configurator TEXT NOT NULL, request TEXT, created_at REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS associations_by_tenant ON associations(tenant, created_at);
        CREATE INDEX IF NOT EXISTS associations_by_production ON associations(production_pod) WHERE production_pod IS NOT NULL;
        """)
    }

    public func pod(_ code: String) throws -> PODRecord? {
        // One statement: the POD and, for an exchange POD, its production PODs in order.
        guard let (record, reachability) = try database.queryOne("""
            SELECT pod, eneltel, matricola, meter_type, exchange_pod, telemanaged, eligible, holder_tax_code, reachability,
                   CASE WHEN meter_type = 'M1' THEN
                       (SELECT group_concat(pod, ',') FROM (SELECT pod FROM pods WHERE exchange_pod = ?1 ORDER BY pod)) END
            FROM pods WHERE pod = ?1
            """, [.text(code)], { s in
                (PODRecord(pod: s.text(0), eneltel: s.text(1), matricola: s.text(2),
                           meterType: s.text(3) == "M2" ? .production : .exchange,
                           exchangePOD: s.optionalText(4), telemanaged: s.bool(5), eligible: s.bool(6),
                           holderTaxCode: s.text(7),
                           productionPODs: s.optionalText(9).map { $0.split(separator: ",").map(String.init) } ?? []),
                 s.text(8))
            }) else { return nil }
        lastLookup = (code, reachability)
        return record
    }

    public func device(_ sid: String) throws -> DeviceRecord? {
        try database.queryOne("SELECT sid, nid, device_type, owner FROM devices WHERE sid = ?", [.text(sid)]) {
            DeviceRecord(sid: $0.text(0), nid: $0.text(1), deviceType: $0.text(2), owner: $0.text(3))
        }
    }

    /// `reachable` answers yes, `unreachable` no; `flaky:N` says no to the first N probes of the
    /// POD and yes afterwards, counting in the database so the count survives restarts.
    public func probeReachability(pod: String) throws -> Bool {
        // A probe nearly always follows the lookup of the same POD: reuse what it read.
        let known = lastLookup?.pod == pod ? lastLookup?.reachability : nil
        guard let reachability = try known ?? database.queryOne("SELECT reachability FROM pods WHERE pod = ?", [.text(pod)], { $0.text(0) }) else {
            return false
        }
        switch Reachability(parsing: reachability) {
        case .reachable: return true
        case .unreachable, nil: return false
        case .flaky(let failures):
            let done = try database.queryOne("SELECT probes FROM probe_counts WHERE pod = ?", [.text(pod)]) { $0.int(0) } ?? 0
            try database.run("INSERT INTO probe_counts(pod, probes) VALUES(?, ?) ON CONFLICT(pod) DO UPDATE SET probes = excluded.probes",
                             [.text(pod), .int(done + 1)])
            return done >= failures
        }
    }

    static let associationColumns = "pod, sid, nid, device_type, configuration_type, production_pod, tenant, configurator, request, created_at"

    static func association(_ s: Statement) -> Association {
        Association(pod: s.text(0), sid: s.text(1), nid: s.text(2), deviceType: s.text(3),
                    configurationType: ConfigurationType(parsing: s.text(4)) ?? .standard,
                    productionPOD: s.optionalText(5), tenant: s.text(6), configurator: s.text(7),
                    request: s.optionalText(8), createdAt: s.double(9))
    }

    public func association(pod: String) throws -> Association? {
        try database.queryOne("SELECT \(Self.associationColumns) FROM associations WHERE pod = ?", [.text(pod)], Self.association)
    }

    public func association(sid: String) throws -> Association? {
        try database.queryOne("SELECT \(Self.associationColumns) FROM associations WHERE sid = ?", [.text(sid)], Self.association)
    }

    public func association(productionPOD pod: String) throws -> Association? {
        try database.queryOne("SELECT \(Self.associationColumns) FROM associations WHERE production_pod = ?", [.text(pod)], Self.association)
    }

    public func createAssociation(_ a: Association) throws {
        try database.run("INSERT INTO associations(\(Self.associationColumns)) VALUES(?,?,?,?,?,?,?,?,?,?)", [
            .text(a.pod), .text(a.sid), .text(a.nid), .text(a.deviceType), .text(a.configurationType.rawValue),
            SQLValue(a.productionPOD), .text(a.tenant), .text(a.configurator), SQLValue(a.request), .double(a.createdAt),
        ])
    }

    public func deleteAssociation(pod: String) throws {
        try database.run("DELETE FROM associations WHERE pod = ?", [.text(pod)])
    }

    public func associations(tenant: String?) throws -> [Association] {
        if let tenant {
            return try database.query("SELECT \(Self.associationColumns) FROM associations WHERE tenant = ? ORDER BY created_at, pod",
                                      [.text(tenant)], Self.association)
        }
        return try database.query("SELECT \(Self.associationColumns) FROM associations ORDER BY created_at, pod", [], Self.association)
    }

    /// How many PODs and devices are loaded.
    public func counts() throws -> (pods: Int, devices: Int) {
        let pods = try database.queryOne("SELECT count(*) FROM pods", []) { $0.int(0) } ?? 0
        let devices = try database.queryOne("SELECT count(*) FROM devices", []) { $0.int(0) } ?? 0
        return (pods, devices)
    }
}

/// How the sample registry says a meter answers probes.
public enum Reachability: Equatable, Sendable {
    case reachable, unreachable, flaky(Int)

    public init?(parsing text: String) {
        switch text {
        case "reachable": self = .reachable
        case "unreachable": self = .unreachable
        default:
            // Digits only: Int("+3") is 3, and "flaky:+3" is a typo, not a count.
            let digits = text.dropFirst(6)
            guard text.hasPrefix("flaky:"), !digits.isEmpty, digits.count <= 9, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(digits) else { return nil }
            self = .flaky(n)
        }
    }
}
