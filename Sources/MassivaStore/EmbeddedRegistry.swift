import MassivaDatabase
import MassivaDomain
import MassivaRegistry

/// The registry kept in SQLite tables of the spool's database, loaded by `massiva registry
/// import`. It works inside the caller's transaction (see `Registry`).
public final class EmbeddedRegistry: Registry, @unchecked Sendable {
    public let database: Database
    /// The reachability setting of the last POD looked up (master data, not probe state).
    private var lastLookup: (pod: String, reachability: String)?
    /// The answers of `withLookups`, while its body runs: a key present with nil is a POD,
    /// device or association known not to exist.
    private struct Prefetched {
        var pods: [String: (record: PODRecord, reachability: String)?] = [:]
        var devices: [String: DeviceRecord?] = [:]
        var associationsByPOD: [String: Association?] = [:]
        var associationsBySID: [String: Association?] = [:]
        /// Associations made in the body and not yet written (`createAssociation`).
        var unwritten: [Association] = []
    }
    private var prefetched: Prefetched?

    public init(database: Database) throws {
        self.database = database
        try Schema.migrate(database)
    }

    /// Every stored value decodes, or the registry answers `internalError` (never a default).
    private static func undecodable(_ table: String, _ key: String, _ column: String, _ value: String) -> RegistryError {
        .internalError(RecordError(table: table, key: key, column: column, value: value).description)
    }

    public func pod(_ code: String) throws -> PODRecord? {
        if let known = prefetched?.pods[code] {
            guard let known else { return nil }
            lastLookup = (code, known.reachability)
            return known.record
        }
        // One statement: the POD and, for an exchange POD, its production PODs in order.
        guard let (record, reachability) = try database.queryOne("""
            SELECT pod, eneltel, matricola, meter_type, exchange_pod, telemanaged, eligible, holder_tax_code, reachability,
                   CASE WHEN meter_type = 'M1' THEN
                       (SELECT \(database.dialect(sqlite: "group_concat(pod, ',')", postgresql: "string_agg(pod, ',' ORDER BY pod)"))
                        FROM (SELECT pod FROM pods WHERE exchange_pod = ?1 ORDER BY pod) AS production)
                   END AS production_pods
            FROM pods WHERE pod = ?1
            """, [.text(code)], { s in
                (try Self.podRecord(s, productionPODs: s.optionalText("production_pods").map { $0.split(separator: ",").map(String.init) } ?? []),
                 s.text("reachability"))
            }) else { return nil }
        lastLookup = (code, reachability)
        return record
    }

    static let podColumns = "pod, eneltel, matricola, meter_type, exchange_pod, telemanaged, eligible, holder_tax_code, reachability"

    private static func podRecord(_ s: Statement, productionPODs: [String]) throws -> PODRecord {
        guard let meterType = PODRecord.MeterType(rawValue: s.text("meter_type")) else {
            throw Self.undecodable("pods", s.text("pod"), "meter_type", s.text("meter_type"))
        }
        return PODRecord(pod: s.text("pod"), eneltel: s.text("eneltel"), matricola: s.text("matricola"), meterType: meterType,
                         exchangePOD: s.optionalText("exchange_pod"), telemanaged: s.bool("telemanaged"),
                         eligible: s.bool("eligible"), holderTaxCode: s.text("holder_tax_code"), productionPODs: productionPODs)
    }

    public func device(_ sid: String) throws -> DeviceRecord? {
        if let known = prefetched?.devices[sid] { return known }
        return try database.queryOne("SELECT sid, nid, device_type, owner FROM devices WHERE sid = ?", [.text(sid)], Self.deviceRecord)
    }

    private static func deviceRecord(_ s: Statement) -> DeviceRecord {
        DeviceRecord(sid: s.text("sid"), nid: s.text("nid"), deviceType: s.text("device_type"), owner: s.text("owner"))
    }

    /// Runs `body` with what the registry knows of `pods` and `sids` (the PODs, an exchange
    /// POD's production PODs, the devices, the associations holding either) read at once, a few
    /// statements of up to 128 keys each, instead of four statements per row. Measured with
    /// `scripts/bench` (1,000 requests of 100 rows): on PostgreSQL over its Unix socket the
    /// per-row lookups were four fifths of a run's 500,000 round trips (36 requests/s against
    /// SQLite's 114 on the same loaded machine); docs/performance.md has the figures with this.
    ///
    /// Call it inside the transaction whose rows it serves (the writers' lock is held: nobody
    /// else changes the associations meanwhile). The associations this registry makes or removes
    /// in `body` are kept in step; every other lookup reads the database as before.
    public func withLookups<T>(pods: [String], sids: [String], _ body: () throws -> T) throws -> T {
        // SQLite: the lookups one by one, in-process, cost no round trip; read at once there too,
        // scripts/bench 1000 gave 262-317 requests/s against 294-346 without (four runs each, in
        // turn, 45 s apart: within this ext4's noise, docs/performance.md), so not worth it.
        if prefetched != nil || database.engine != .postgresql { return try body() }
        var found = Prefetched()
        let podKeys = Array(Set(pods)).sorted(), sidKeys = Array(Set(sids)).sorted()
        for key in podKeys { found.pods[key] = .some(nil); found.associationsByPOD[key] = .some(nil) }
        for key in sidKeys { found.devices[key] = .some(nil); found.associationsBySID[key] = .some(nil) }
        let podLists = Self.inLists(podKeys), sidLists = Self.inLists(sidKeys)
        // Three statements a pass, not five (each a round trip): the production PODs in the
        // PODs' statement, the associations by POD and by SID in one.
        let podColumns = Self.podColumns + """
            , CASE WHEN meter_type = 'M1' THEN
                  (SELECT string_agg(p.pod, ',' ORDER BY p.pod) FROM pods p WHERE p.exchange_pod = pods.pod) END AS production_pods
            """
        for (list, bindings) in podLists {
            for (record, reachability) in try database.query(lookup(podColumns, from: "pods", where: "pod", in: list), bindings, { s in
                (try Self.podRecord(s, productionPODs: s.optionalText("production_pods").map { $0.split(separator: ",").map(String.init) } ?? []),
                 s.text("reachability"))
            }) {
                found.pods[record.pod] = (record, reachability)
            }
        }
        for i in 0..<max(podLists.count, sidLists.count) {
            var parts: [String] = [], bindings: [SQLValue] = []
            if i < podLists.count {
                parts.append(lookup(Self.associationColumns, from: "associations", where: "pod", in: podLists[i].list))
                bindings += podLists[i].bindings
            }
            if i < sidLists.count {
                parts.append(lookup(Self.associationColumns, from: "associations", where: "sid", in: sidLists[i].list))
                bindings += sidLists[i].bindings
            }
            for a in try database.query(parts.joined(separator: " UNION ALL "), bindings, Self.association) {
                if found.associationsByPOD[a.pod] != nil { found.associationsByPOD[a.pod] = .some(a) }
                if found.associationsBySID[a.sid] != nil { found.associationsBySID[a.sid] = .some(a) }
            }
        }
        for (list, bindings) in sidLists {
            for device in try database.query(lookup("sid, nid, device_type, owner", from: "devices", where: "sid", in: list), bindings,
                                             Self.deviceRecord) {
                found.devices[device.sid] = device
            }
        }
        prefetched = found
        // A savepoint in `body` (a flaky meter's probe count, a caller's nested transaction)
        // may be rolled back: what was made before it is written first, and from then on every
        // lookup reads the database, which the rollback keeps right.
        let outer = database.beforeSavepoint
        database.beforeSavepoint = { [unowned self] in
            try outer?()
            try writeUnwritten()
            if prefetched != nil { prefetched = Prefetched() }
        }
        defer {
            prefetched = nil
            database.beforeSavepoint = outer
        }
        let value = try body()
        try writeUnwritten()
        return value
    }

    /// The associations `createAssociation` kept for one multi-row INSERT, written now: at the
    /// end of `withLookups`, and before any statement that reads or writes the associations
    /// otherwise than through what it read. A body that throws leaves them unwritten, as its
    /// transaction (which it fails) would have undone them.
    private func writeUnwritten() throws {
        guard let rows = prefetched?.unwritten, !rows.isEmpty else { return }
        prefetched!.unwritten.removeAll()
        try database.insert(into: "associations", columns: Self.associationColumns, columnCount: 12, rows: rows.map(Self.values))
    }

    private static func values(_ a: Association) -> [SQLValue] {
        [.text(a.pod), .text(a.sid), .text(a.nid), .text(a.deviceType), .text(a.configurationType.rawValue),
         SQLValue(a.productionPOD), .text(a.tenant), .text(a.configurator), SQLValue(a.request), .double(a.createdAt),
         .text(a.configuratorPerson.givenName), .text(a.configuratorPerson.surname)]
    }

    /// The rows of `table` whose `key` is one of `list` (`inLists`). On PostgreSQL one index
    /// lookup per key, whatever the planner believes of the table: a plain `IN` list was planned
    /// as a sequential scan of a table never analysed yet (a spool's first minutes, or a registry
    /// just imported: autovacuum analyses a table a minute or so later), which took scripts/bench
    /// from 36 to 11 requests/s (each scan of 100,000 associations 17 ms). An equality on the key
    /// in a lateral subquery is an index scan, once `OFFSET 0` keeps the planner from pulling the
    /// subquery up into a hash join with the same sequential scan (EXPLAIN ANALYZE, 30,000
    /// associations: 4.9 ms without, 0.35 ms with). PostgreSQL only (`withLookups`).
    /// 4,096: a group of requests of 100 rows (`Engine.groupSize`, 32 on PostgreSQL, read ahead
    /// at once: `RequestProcessor.readingAhead`) is one statement a table, each a round trip
    /// that waits for the writes sent before it; and a bound on one statement's parameter.
    static let inListLimit = 4096

    private func lookup(_ columns: String, from table: String, where key: String, in list: String) -> String {
        """
        SELECT found.* FROM (SELECT DISTINCT unnest(\(list)) AS key) AS wanted
        CROSS JOIN LATERAL (SELECT \(columns) FROM \(table) WHERE \(key) = wanted.key COLLATE "C" OFFSET 0) AS found
        """
    }

    /// `keys` as text arrays of at most `inListLimit` keys, each one parameter (an array
    /// literal): one statement text per query whatever the count. A list of placeholders, one
    /// per key, was planned anew for each count and, once PostgreSQL took a generic plan for it
    /// (from the sixth execution on), the PODs' lookup of 1,024 keys went from 9 to 31 ms
    /// (scripts/bench's server log, `log_min_duration_statement = 0`).
    static func inLists(_ keys: [String]) -> [(list: String, bindings: [SQLValue])] {
        stride(from: 0, to: keys.count, by: inListLimit).map { start in
            let chunk = keys[start..<min(start + inListLimit, keys.count)]
            return ("CAST(? AS TEXT[])", [.text(arrayLiteral(chunk))])
        }
    }

    /// PostgreSQL's text array literal of `values`: each element quoted, `"` and `\` escaped.
    static func arrayLiteral<C: Collection<String>>(_ values: C) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }

    /// Any case (a NID is hexadecimal). Two devices with one NID is bad master data: an
    /// internal error rather than either of them.
    public func device(nid: String) throws -> DeviceRecord? {
        // Each engine's form matches its index on the NID (Schema's devices_by_nid).
        let found = try database.query("SELECT sid, nid, device_type, owner FROM devices WHERE "
                                       + database.dialect(sqlite: "nid = ? COLLATE NOCASE", postgresql: "lower(nid) = lower(?)") + " LIMIT 2",
                                       [.text(nid)]) {
            DeviceRecord(sid: $0.text("sid"), nid: $0.text("nid"), deviceType: $0.text("device_type"), owner: $0.text("owner"))
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
        guard let text = try known ?? database.queryOne("SELECT reachability FROM pods WHERE pod = ?", [.text(pod)], { $0.text("reachability") }) else {
            return false
        }
        guard let reachability = Reachability(parsing: text) else { throw Self.undecodable("pods", pod, "reachability", text) }
        switch reachability {
        case .reachable: return true
        case .unreachable: return false
        case .flaky(let failures):
            let done = try database.queryOne("SELECT probes FROM probe_counts WHERE pod = ?", [.text(pod)]) { $0.int("probes") } ?? 0
            try database.transaction {  // its own, or a savepoint: fenced on the leader's connection
                try database.run("INSERT INTO probe_counts(pod, probes) VALUES(?, ?) ON CONFLICT(pod) DO UPDATE SET probes = excluded.probes",
                                 [.text(pod), .int(done + 1)])
            }
            return done >= failures
        }
    }

    static let associationColumns = """
        pod, sid, nid, device_type, configuration_type, production_pod, tenant, configurator, request, created_at,
        configurator_given_name, configurator_surname
        """

    static func association(_ s: Statement) throws -> Association {
        guard let type = ConfigurationType(rawValue: s.text("configuration_type")) else {
            throw undecodable("associations", s.text("pod"), "configuration_type", s.text("configuration_type"))
        }
        return Association(pod: s.text("pod"), sid: s.text("sid"), nid: s.text("nid"), deviceType: s.text("device_type"),
                           configurationType: type, productionPOD: s.optionalText("production_pod"), tenant: s.text("tenant"),
                           configurator: s.text("configurator"),
                           configuratorPerson: PersonName(givenName: s.text("configurator_given_name"),
                                                          surname: s.text("configurator_surname")),
                           request: s.optionalText("request"), createdAt: s.double("created_at"))
    }

    public func association(pod: String) throws -> Association? {
        if let known = prefetched?.associationsByPOD[pod] { return known }
        try writeUnwritten()
        return try database.queryOne("SELECT \(Self.associationColumns) FROM associations WHERE pod = ?", [.text(pod)], Self.association)
    }

    public func association(sid: String) throws -> Association? {
        if let known = prefetched?.associationsBySID[sid] { return known }
        try writeUnwritten()
        return try database.queryOne("SELECT \(Self.associationColumns) FROM associations WHERE sid = ?", [.text(sid)], Self.association)
    }

    public func association(productionPOD pod: String) throws -> Association? {
        try writeUnwritten()
        return try database.queryOne("SELECT \(Self.associationColumns) FROM associations WHERE production_pod = ?", [.text(pod)], Self.association)
    }

    public func createAssociation(_ a: Association) throws {
        // In a pass's lookups, with its POD and SID read and found free (so the INSERT cannot
        // fail on either key): kept, and written with the pass's others in one statement
        // (`writeUnwritten`, `Database.insert`). One INSERT per row was a third of a bench run's statements on
        // PostgreSQL after the lookups were read at once (30,000 of 82,000 for 300 requests).
        if let known = prefetched, case .some(.none) = known.associationsByPOD[a.pod], case .some(.none) = known.associationsBySID[a.sid] {
            prefetched!.unwritten.append(a)
            prefetched!.associationsByPOD[a.pod] = .some(a)
            prefetched!.associationsBySID[a.sid] = .some(a)
            return
        }
        try writeUnwritten()
        try database.run("INSERT INTO associations(\(Self.associationColumns)) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", Self.values(a))
        // A key read before and found free is no longer (else it was not read, or not since a
        // savepoint began: the database answers for it).
        if prefetched?.associationsByPOD[a.pod] != nil { prefetched!.associationsByPOD[a.pod] = .some(a) }
        if prefetched?.associationsBySID[a.sid] != nil { prefetched!.associationsBySID[a.sid] = .some(a) }
    }

    public func deleteAssociation(pod: String) throws {
        try writeUnwritten()
        try database.run("DELETE FROM associations WHERE pod = ?", [.text(pod)])
        // Which SID it freed is not known here: every lookup goes to the database again.
        if prefetched != nil { prefetched = Prefetched() }
    }

    /// One statement, in a read transaction (or the caller's): the associations with their
    /// meter's matricola, streamed in the order of an index (no sort, whatever their number:
    /// one statement per case, as `?1 IS NULL OR tenant = ?1` made SQLite scan and sort all).
    public func eachAssociation(tenant: String?, _ body: (ListedAssociation) throws -> Void) throws {
        try writeUnwritten()
        try database.readTransaction {
            try database.each("""
                SELECT a.pod, a.sid, a.nid, a.device_type, a.configuration_type, a.production_pod, a.tenant, a.configurator,
                       a.request, a.created_at, a.configurator_given_name, a.configurator_surname, coalesce(p.matricola, '') AS matricola
                FROM associations a LEFT JOIN pods p ON p.pod = a.pod
                \(tenant == nil ? "" : "WHERE a.tenant = ?1") ORDER BY a.created_at, a.pod
                """, tenant.map { [.text($0)] } ?? []) { s in
                try body(ListedAssociation(association: try Self.association(s), matricola: s.text("matricola")))
            }
        }
    }

    public func eachAssociation(tenant: String, after: (createdAt: Double, pod: String), _ body: (ListedAssociation) throws -> Void) throws {
        try writeUnwritten()
        try database.each("""
            SELECT a.pod, a.sid, a.nid, a.device_type, a.configuration_type, a.production_pod, a.tenant, a.configurator,
                   a.request, a.created_at, a.configurator_given_name, a.configurator_surname, coalesce(p.matricola, '') AS matricola
            FROM associations a LEFT JOIN pods p ON p.pod = a.pod
            WHERE a.tenant = ?1 AND (a.created_at > ?2 OR (a.created_at = ?2 AND a.pod > ?3)) ORDER BY a.created_at, a.pod
            """, [.text(tenant), .double(after.createdAt), .text(after.pod)]) { s in
            try body(ListedAssociation(association: try Self.association(s), matricola: s.text("matricola")))
        }
    }

    public func associationCount(tenant: String) throws -> Int {
        try writeUnwritten()
        return try database.queryOne("SELECT count(*) FROM associations WHERE tenant = ?", [.text(tenant)]) { $0.int(0) } ?? 0
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
    public static func importDirectory(_ directory: String, into registry: EmbeddedRegistry,
                                       report: (String) -> Void = { _ in }) throws -> RegistryImportCounts {
        try importDirectory(directory, into: registry as any RegistryImportTarget, report: report)
    }
}

// MARK: Importing the master data

/// `massiva registry import`, streamed: the checked lines go into a scratch database (an SQLite
/// temporary file, attached as `import`), which checks what spans lines with its keys; then one
/// transaction applies the difference to `pods` and `devices`.
///
/// Why a scratch database and not the lines in memory: 3 million PODs held as Swift values took
/// 2 GB (issue 10); 32 million would not fit. Its page cache is bounded (64 MiB), its file is
/// unlinked by SQLite as soon as it is created (nothing is left behind by a kill -9), and it is
/// written without a journal (it is thrown away either way).
///
/// Why a difference and not `DELETE` then `INSERT`: a re-import of an unchanged registry then
/// writes nothing to the spool's database (no WAL traffic, no page rewritten) and one of a few
/// changed lines writes those lines; the daemon's lookups keep their cached pages.
extension EmbeddedRegistry: RegistryImportTarget {
    /// Where the staged lines go: SQLite's attached scratch database `import`, PostgreSQL's
    /// temporary tables `import_pods` and `import_devices` (the session's own, unlogged, gone
    /// with the connection).
    var staging: String { database.engine == .sqlite ? "import." : "import_" }

    public func beginImport() throws {
        if database.engine == .postgresql {
            // The keyed tables hold the lines kept (the first of each key); each batch is copied
            // into the keyless *_batch tables first (`stageByCopy`).
            try database.execute("""
                DROP TABLE IF EXISTS import_pods, import_devices, import_pods_batch, import_devices_batch;
                CREATE TEMPORARY TABLE import_pods(
                    pod TEXT COLLATE "C" PRIMARY KEY, eneltel TEXT COLLATE "C" NOT NULL, matricola TEXT COLLATE "C" NOT NULL,
                    meter_type TEXT COLLATE "C" NOT NULL, exchange_pod TEXT COLLATE "C", telemanaged INTEGER NOT NULL,
                    eligible INTEGER NOT NULL, reachability TEXT COLLATE "C" NOT NULL, holder_tax_code TEXT COLLATE "C" NOT NULL,
                    line BIGINT NOT NULL);
                CREATE TEMPORARY TABLE import_devices(
                    sid TEXT COLLATE "C" PRIMARY KEY, nid TEXT COLLATE "C" NOT NULL, device_type TEXT COLLATE "C" NOT NULL,
                    owner TEXT COLLATE "C" NOT NULL, line BIGINT NOT NULL);
                CREATE UNIQUE INDEX import_devices_by_nid ON import_devices(nid);
                -- LIKE copies the columns, collations and NOT NULLs, not the keys or indexes.
                CREATE TEMPORARY TABLE import_pods_batch(LIKE import_pods);
                CREATE TEMPORARY TABLE import_devices_batch(LIKE import_devices);
                """)
            return
        }
        // An attached '' database is a temporary file; with temp_store = MEMORY it would be kept
        // in memory instead, without bound.
        try database.execute("PRAGMA temp_store = FILE")
        // The apply step walks both key indexes in order; 64 MiB of cache each (instead of
        // the connection's 8) keeps the pages being filled in memory: bounded either way.
        try database.execute("PRAGMA main.cache_size = -65536")
        try database.execute("ATTACH DATABASE '' AS import")
        try database.execute("""
            PRAGMA import.journal_mode = OFF; PRAGMA import.synchronous = OFF; PRAGMA import.cache_size = -65536;
            CREATE TABLE import.pods(
                pod TEXT PRIMARY KEY, eneltel TEXT NOT NULL, matricola TEXT NOT NULL, meter_type TEXT NOT NULL,
                exchange_pod TEXT, telemanaged INTEGER NOT NULL, eligible INTEGER NOT NULL, reachability TEXT NOT NULL,
                holder_tax_code TEXT NOT NULL, line INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE import.devices(
                sid TEXT PRIMARY KEY, nid TEXT NOT NULL, device_type TEXT NOT NULL, owner TEXT NOT NULL,
                line INTEGER NOT NULL) WITHOUT ROWID;
            CREATE UNIQUE INDEX import.devices_by_nid ON devices(nid);
            """)
    }

    public func endImport() {
        if database.engine == .postgresql {
            try? database.execute("DROP TABLE IF EXISTS import_pods, import_devices, import_pods_batch, import_devices_batch")
            return
        }
        if (try? database.queryOne("SELECT 1 FROM pragma_database_list WHERE name = 'import'", [], { $0.int(0) })) != nil {
            try? database.execute("DETACH DATABASE import")
        }
        try? database.execute("PRAGMA temp_store = MEMORY")
        try? database.execute("PRAGMA main.cache_size = -8192")  // as Database sets it
    }

    /// Rows a multi-row INSERT takes: one statement step for 64 lines.
    static let stagingRows = 64

    /// SQLite's staging (PostgreSQL's is `stageByCopy`): inserts `rows` (already flattened,
    /// `columns` values each) with `INSERT OR IGNORE`; the
    /// keys not inserted were staged before: returns them with the line they were first on.
    private func stage(table: String, key: String, columns: [String], width: Int, values: [SQLValue],
                       keys: [String], lines: [Int], otherKey: (column: String, values: [String])? = nil) throws -> [ImportDuplicate] {
        let count = keys.count
        if count == 0 { return [] }
        var duplicates: [ImportDuplicate] = []
        // Deferred: it writes only the scratch database, so the spool's stays unlocked while a
        // file of millions of lines is read.
        try database.readTransaction {
            var start = 0
            while start < count {
                let n = min(Self.stagingRows, count - start)
                let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ",") + ")"
                let sql = "INSERT OR IGNORE INTO " + staging + table
                    + "(\(columns.joined(separator: ","))) VALUES " + Array(repeating: tuple, count: n).joined(separator: ",")
                try database.run(sql, Array(values[(start * width)..<((start + n) * width)]))
                if database.changes < n {
                    // A key of this batch was there already: find which (rare, so one by one).
                    for k in start..<(start + n) {
                        let first = try database.queryOne("SELECT line FROM \(staging)\(table) WHERE \(key) = ?", [.text(keys[k])]) { $0.int("line") }
                        if let first, first != lines[k] {
                            duplicates.append(ImportDuplicate(line: lines[k], field: key, value: keys[k], first: first))
                        } else if first == nil, let otherKey,
                                  let other = try database.queryOne("SELECT line FROM \(staging)\(table) WHERE \(otherKey.column) = ?",
                                                                    [.text(otherKey.values[k])], { $0.int("line") }) {
                            duplicates.append(ImportDuplicate(line: lines[k], field: otherKey.column, value: otherKey.values[k], first: other))
                        }
                    }
                }
                start += n
            }
        }
        return duplicates
    }

    public func stage(pods: [ImportedPOD]) throws -> [ImportDuplicate] {
        if database.engine == .postgresql {
            // Kept: the row of the key's first line, which is already in import_pods (an
            // earlier batch) or earlier in this one; every other line of that key is reported.
            return try stageByCopy(table: "pods", columns: Self.importedPODColumns + ["line"], count: pods.count, duplicates: """
                SELECT b.line AS line, 'pod' AS field, b.pod AS value, s.line AS first
                FROM import_pods_batch b JOIN import_pods s ON s.pod = b.pod
                WHERE s.line <> b.line ORDER BY b.line
                """) { rows in
                for p in pods {
                    rows.append(.text(p.pod)); rows.append(.text(p.eneltel)); rows.append(.text(p.matricola))
                    rows.append(.text(p.meterType.rawValue)); rows.append(SQLValue(p.exchangePOD)); rows.append(SQLValue(p.telemanaged))
                    rows.append(SQLValue(p.eligible)); rows.append(.text(p.reachability.text)); rows.append(.text(p.holderTaxCode))
                    rows.append(.int(p.line))
                    try rows.endRow()
                }
            }
        }
        var values: [SQLValue] = []
        values.reserveCapacity(pods.count * 10)
        for p in pods {
            values += [.text(p.pod), .text(p.eneltel), .text(p.matricola), .text(p.meterType.rawValue), SQLValue(p.exchangePOD),
                       SQLValue(p.telemanaged), SQLValue(p.eligible), .text(p.reachability.text), .text(p.holderTaxCode), .int(p.line)]
        }
        return try stage(table: "pods", key: "pod", columns: Self.importedPODColumns + ["line"], width: 10, values: values,
                         keys: pods.map(\.pod), lines: pods.map(\.line))
    }

    public func stage(devices: [ImportedDevice]) throws -> [ImportDuplicate] {
        if database.engine == .postgresql {
            // A line is kept when neither its SID nor its NID is on a line kept before it (the
            // insert in line order skips it otherwise). Not kept: the SID's kept line is earlier
            // (a SID twice), or else the NID's is (a NID twice; the SID's kept line, if any, came
            // after this one and did not stop it).
            return try stageByCopy(table: "devices", columns: Self.importedDeviceColumns + ["line"], count: devices.count,
                                   duplicates: """
                SELECT b.line AS line,
                       CASE WHEN s.line < b.line THEN 'sid' ELSE 'nid' END AS field,
                       CASE WHEN s.line < b.line THEN b.sid ELSE b.nid END AS value,
                       CASE WHEN s.line < b.line THEN s.line ELSE n.line END AS first
                FROM import_devices_batch b
                LEFT JOIN import_devices s ON s.sid = b.sid
                LEFT JOIN import_devices n ON n.nid = b.nid
                WHERE s.line IS DISTINCT FROM b.line ORDER BY b.line
                """) { rows in
                for d in devices {
                    rows.append(.text(d.device.sid)); rows.append(.text(d.device.nid)); rows.append(.text(d.device.deviceType))
                    rows.append(.text(d.device.owner)); rows.append(.int(d.line))
                    try rows.endRow()
                }
            }
        }
        var values: [SQLValue] = []
        values.reserveCapacity(devices.count * 5)
        for d in devices {
            values += [.text(d.device.sid), .text(d.device.nid), .text(d.device.deviceType), .text(d.device.owner), .int(d.line)]
        }
        return try stage(table: "devices", key: "sid", columns: Self.importedDeviceColumns + ["line"], width: 5, values: values,
                         keys: devices.map(\.device.sid), lines: devices.map(\.line),
                         otherKey: ("nid", devices.map(\.device.nid)))
    }

    /// PostgreSQL's staging of one batch (`RegistryImporter` hands them over 4,096 lines at a
    /// time, so memory stays bounded). Nearly always no key of the batch is staged yet: the batch
    /// is copied (`Database.copy`: one statement, one stream) straight into the keyed
    /// `import_<table>`, in a savepoint. A key already there fails that COPY whole (23505, undone
    /// by the savepoint); the batch is then copied into the keyless `import_<table>_batch` and
    /// moved into `import_<table>` in line order, each key's first line kept (`ON CONFLICT DO
    /// NOTHING`: the rows are inserted in the order the sorted scan gives them, and a row
    /// conflicting with one inserted earlier by the same statement is skipped as one from an
    /// earlier batch); `duplicates` (one query) says which lines were skipped, for which field,
    /// and the line kept.
    ///
    /// Measured (release build, the test cluster: PostgreSQL 15 over its Unix socket, fsync off;
    /// 2 cores shared with other work; scripts/generate-large-registry; whole store-level import,
    /// of which the staging): 1 M PODs + 250,000 devices: the 64-row INSERT staging 18.7 s (11.6 s
    /// staging), every batch through the keyless table 14.2-17.4 s (7.0-7.9 s), COPY into the keyed
    /// table first 10.9-12.0 s (3.7-3.9 s); SQLite 5.2 s (2.1 s). 4 M PODs + 1 M devices: INSERT
    /// 69.8 s, COPY first 46.1 s (14.3 s staging, linear from 1 M: x3.9), SQLite 21.1 s (8.9 s).
    /// So 32 M PODs would stage in about 2 minutes (INSERT: about 6); the rest is `commitImport`.
    private func stageByCopy(table: String, columns: [String], count: Int, duplicates: String,
                             _ write: (inout PostgresCopyWriter) throws -> Void) throws -> [ImportDuplicate] {
        if count == 0 { return [] }
        let list = columns.joined(separator: ", ")
        // A transaction of its own (or the caller's): it writes only the session's temporary
        // tables, so it needs no writer's turn.
        return try database.readTransaction {
            do {
                _ = try database.transaction { try database.copy(into: "import_\(table)", columns: columns, write) }
                return []
            } catch let error as DatabaseError where error.sqlState == "23505" {}  // a key twice: the slow way
            try database.execute("TRUNCATE import_\(table)_batch")
            try database.copy(into: "import_\(table)_batch", columns: columns, write)
            try database.run("""
                INSERT INTO import_\(table)(\(list)) SELECT \(list) FROM import_\(table)_batch ORDER BY line ON CONFLICT DO NOTHING
                """)
            if database.changes == count { return [] }
            return try database.query(duplicates, []) {
                ImportDuplicate(line: $0.int("line"), field: $0.text("field"), value: $0.text("value"), first: $0.int("first"))
            }
        }
    }

    static let importedPODColumns = ["pod", "eneltel", "matricola", "meter_type", "exchange_pod", "telemanaged", "eligible",
                                     "reachability", "holder_tax_code"]
    static let importedDeviceColumns = ["sid", "nid", "device_type", "owner"]

    public func eachOrphanProductionPOD(_ body: (_ line: Int, _ exchangePOD: String) throws -> Void) throws {
        // Few M2 lines (about one in ten), each one key lookup; sorted by line for the report.
        try database.each("""
            SELECT s.line AS line, s.exchange_pod AS exchange_pod FROM \(staging)pods s
            WHERE s.meter_type = 'M2' AND NOT EXISTS (
                SELECT 1 FROM \(staging)pods m WHERE m.pod = s.exchange_pod AND m.meter_type = 'M1')
            ORDER BY s.line
            """) { try body($0.int("line"), $0.text("exchange_pod")) }
    }

    public func commitImport() throws -> RegistryImportCounts {
        var counts = RegistryImportCounts()
        let podColumns = Self.importedPODColumns.joined(separator: ", ")
        let deviceColumns = Self.importedDeviceColumns.joined(separator: ", ")
        func same(_ columns: [String]) -> String {
            // IS: exchange_pod may be NULL on both sides.
            let same = database.engine == .sqlite ? "IS" : "IS NOT DISTINCT FROM"
            return columns.dropFirst().map { "t.\($0) \(same) s.\($0)" }.joined(separator: " AND ")
        }
        try database.transaction {
            counts.pods = try database.queryOne("SELECT count(*) FROM \(staging)pods", []) { $0.int(0) } ?? 0
            counts.devices = try database.queryOne("SELECT count(*) FROM \(staging)devices", []) { $0.int(0) } ?? 0
            let main = database.engine == .sqlite ? "main." : ""
            for (table, key, columns, list) in [("pods", "pod", Self.importedPODColumns, podColumns),
                                                 ("devices", "sid", Self.importedDeviceColumns, deviceColumns)] {
                let staged = table == "pods" ? counts.pods : counts.devices
                let existing = try database.queryOne("SELECT count(*) FROM \(main)\(table)", []) { $0.int(0) } ?? 0
                // Only the lines that are new or differ; in key order (the staging table's), so
                // a first import appends to the table's key index.
                try database.run("""
                    INSERT INTO \(main)\(table)(\(list)) SELECT \(list) FROM \(staging)\(table) s
                    WHERE NOT EXISTS (SELECT 1 FROM \(main)\(table) t WHERE t.\(key) = s.\(key) AND \(same(columns)))
                    ON CONFLICT(\(key)) DO UPDATE SET \(columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
                    """)
                let written = database.changes
                var after = try database.queryOne("SELECT count(*) FROM \(main)\(table)", []) { $0.int(0) } ?? 0
                let added = after - existing
                // Every staged key is now in the table: as many lines as staged means none other
                // is, and the pass that looks for lines to remove (one lookup per line of the table) is
                // skipped.
                if after > staged {
                    try database.run("DELETE FROM \(main)\(table) WHERE NOT EXISTS (SELECT 1 FROM \(staging)\(table) s WHERE s.\(key) = \(table).\(key))")
                    counts.removed += database.changes
                    after -= database.changes
                }
                counts.added += added
                counts.changed += written - added
            }
        }
        if counts.changed + counts.removed > 0 {
            // A meter's matricola may have changed: associazioni.csv shows it, so every list
            // is written whole again (not appended to).
            try database.run("UPDATE association_lists SET state_version = state_version + 1, removed_version = state_version + 1")
        }
        // A first import of millions of lines leaves a WAL file of the database's size: give
        // the space back (best effort: a reader, the daemon, may hold it for now).
        if database.engine == .sqlite { try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        return counts
    }
}

extension StateStore {
    /// The embedded registry on this store's connection (the lists read its associations in the
    /// transaction they are written in).
    public func embeddedRegistry() throws -> EmbeddedRegistry { try EmbeddedRegistry(database: database) }
}
