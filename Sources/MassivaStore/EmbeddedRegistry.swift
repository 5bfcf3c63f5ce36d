import MassivaDatabase
import MassivaDomain
import MassivaRegistry

/// The registry kept in SQLite tables of the spool's database, loaded by `massiva registry
/// import`. It works inside the caller's transaction (see `Registry`).
public final class EmbeddedRegistry: Registry, @unchecked Sendable {
    public let database: Database
    /// The reachability setting of the last POD looked up (master data, not probe state).
    private var lastLookup: (pod: String, reachability: String)?

    public init(database: Database) throws {
        self.database = database
        try Schema.migrate(database)
    }

    /// Every stored value decodes, or the registry answers `internalError` (never a default).
    private static func undecodable(_ table: String, _ key: String, _ column: String, _ value: String) -> RegistryError {
        .internalError(RecordError(table: table, key: key, column: column, value: value).description)
    }

    public func pod(_ code: String) throws -> PODRecord? {
        // One statement: the POD and, for an exchange POD, its production PODs in order.
        guard let (record, reachability) = try database.queryOne("""
            SELECT pod, eneltel, matricola, meter_type, exchange_pod, telemanaged, eligible, holder_tax_code, reachability,
                   CASE WHEN meter_type = 'M1' THEN
                       (SELECT group_concat(pod, ',') FROM (SELECT pod FROM pods WHERE exchange_pod = ?1 ORDER BY pod)) END
            FROM pods WHERE pod = ?1
            """, [.text(code)], { s in
                guard let meterType = PODRecord.MeterType(rawValue: s.text(3)) else {
                    throw Self.undecodable("pods", s.text(0), "meter_type", s.text(3))
                }
                return (PODRecord(pod: s.text(0), eneltel: s.text(1), matricola: s.text(2), meterType: meterType,
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

    /// Any case (a NID is hexadecimal). Two devices with one NID is bad master data: an
    /// internal error rather than either of them.
    public func device(nid: String) throws -> DeviceRecord? {
        let found = try database.query("SELECT sid, nid, device_type, owner FROM devices WHERE nid = ? COLLATE NOCASE LIMIT 2",
                                       [.text(nid)]) {
            DeviceRecord(sid: $0.text(0), nid: $0.text(1), deviceType: $0.text(2), owner: $0.text(3))
        }
        if found.count > 1 { throw RegistryError.internalError("NID \(nid) belongs to more than one device in devices.csv") }
        return found.first
    }

    /// `reachable` answers yes, `unreachable` no; `flaky:N` says no to the first N probes of the
    /// POD and yes afterwards, counting in the database so the count survives restarts. A POD not
    /// in the registry does not answer.
    public func probeReachability(pod: String) throws -> Bool {
        // A probe nearly always follows the lookup of the same POD: reuse what it read.
        let known = lastLookup?.pod == pod ? lastLookup?.reachability : nil
        guard let text = try known ?? database.queryOne("SELECT reachability FROM pods WHERE pod = ?", [.text(pod)], { $0.text(0) }) else {
            return false
        }
        guard let reachability = Reachability(parsing: text) else { throw Self.undecodable("pods", pod, "reachability", text) }
        switch reachability {
        case .reachable: return true
        case .unreachable: return false
        case .flaky(let failures):
            let done = try database.queryOne("SELECT probes FROM probe_counts WHERE pod = ?", [.text(pod)]) { $0.int(0) } ?? 0
            try database.run("INSERT INTO probe_counts(pod, probes) VALUES(?, ?) ON CONFLICT(pod) DO UPDATE SET probes = excluded.probes",
                             [.text(pod), .int(done + 1)])
            return done >= failures
        }
    }

    static let associationColumns = """
        pod, sid, nid, device_type, configuration_type, production_pod, tenant, configurator, request, created_at,
        configurator_given_name, configurator_surname
        """

    static func association(_ s: Statement) throws -> Association {
        guard let type = ConfigurationType(rawValue: s.text(4)) else {
            throw undecodable("associations", s.text(0), "configuration_type", s.text(4))
        }
        return Association(pod: s.text(0), sid: s.text(1), nid: s.text(2), deviceType: s.text(3), configurationType: type,
                           productionPOD: s.optionalText(5), tenant: s.text(6), configurator: s.text(7),
                           configuratorPerson: PersonName(givenName: s.text(10), surname: s.text(11)),
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
        try database.run("INSERT INTO associations(\(Self.associationColumns)) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", [
            .text(a.pod), .text(a.sid), .text(a.nid), .text(a.deviceType), .text(a.configurationType.rawValue),
            SQLValue(a.productionPOD), .text(a.tenant), .text(a.configurator), SQLValue(a.request), .double(a.createdAt),
            .text(a.configuratorPerson.givenName), .text(a.configuratorPerson.surname),
        ])
    }

    public func deleteAssociation(pod: String) throws {
        try database.run("DELETE FROM associations WHERE pod = ?", [.text(pod)])
    }

    /// One statement, in a read transaction (or the caller's): the associations with their
    /// meter's matricola, streamed.
    public func eachAssociation(tenant: String?, _ body: (ListedAssociation) throws -> Void) throws {
        try database.readTransaction {
            try database.each("""
                SELECT a.pod, a.sid, a.nid, a.device_type, a.configuration_type, a.production_pod, a.tenant, a.configurator,
                       a.request, a.created_at, a.configurator_given_name, a.configurator_surname, coalesce(p.matricola, '')
                FROM associations a LEFT JOIN pods p ON p.pod = a.pod
                WHERE ?1 IS NULL OR a.tenant = ?1 ORDER BY a.created_at, a.pod
                """, [SQLValue(tenant)]) { s in
                try body(ListedAssociation(association: try Self.association(s), matricola: s.text(12)))
            }
        }
    }

    /// Replaces the master data (PODs, devices) in one transaction; associations, probe counts
    /// and history stay.
    public func replaceMasterData(_ data: RegistryMasterData) throws {
        try database.transaction {
            try database.execute("DELETE FROM pods; DELETE FROM devices;")
            for p in data.pods {
                let r = p.record
                try database.run("INSERT INTO pods(pod, eneltel, matricola, meter_type, exchange_pod, telemanaged, eligible, reachability, holder_tax_code) VALUES(?,?,?,?,?,?,?,?,?)", [
                    .text(r.pod), .text(r.eneltel), .text(r.matricola), .text(r.meterType.rawValue), SQLValue(r.exchangePOD),
                    SQLValue(r.telemanaged), SQLValue(r.eligible), .text(p.reachability.text), .text(r.holderTaxCode),
                ])
            }
            for d in data.devices {
                try database.run("INSERT INTO devices(sid, nid, device_type, owner) VALUES(?,?,?,?)",
                                 [.text(d.sid), .text(d.nid), .text(d.deviceType), .text(d.owner)])
            }
        }
    }

    /// How many PODs and devices are loaded.
    public func counts() throws -> (pods: Int, devices: Int) {
        let pods = try database.queryOne("SELECT count(*) FROM pods", []) { $0.int(0) } ?? 0
        let devices = try database.queryOne("SELECT count(*) FROM devices", []) { $0.int(0) } ?? 0
        return (pods, devices)
    }
}

extension RegistryImporter {
    /// Reads `DIR/pods.csv` and `DIR/devices.csv` and loads them into `registry`: all or nothing.
    @discardableResult
    public static func importDirectory(_ directory: String, into registry: EmbeddedRegistry) throws -> (pods: Int, devices: Int) {
        let data = try read(directory: directory)
        try registry.replaceMasterData(data)
        return (data.pods.count, data.devices.count)
    }
}
