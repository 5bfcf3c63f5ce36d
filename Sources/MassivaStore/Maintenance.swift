import MassivaDatabase
import MassivaDomain

/// What `massiva backup` and `massiva check` ask of the database: the online backup, SQLite's
/// own integrity check, the schema's version, and the records the spool's files are checked
/// against (on PostgreSQL too, but for the first two).
public struct Maintenance {
    private let database: Database

    /// Opens the database at `path` on a connection of its own, without migrating it: a backup
    /// copies what is there, a check reports what it finds.
    public init(path: String) throws {
        database = try Database(path: path)
    }

    /// Opens the database at `location` the same way (`check` on either engine); a PostgreSQL
    /// database out of reach is a `DatabaseUnavailableError`.
    public init(location: DatabaseLocation) throws {
        database = try Database.connect(location)
    }

    /// Which engine holds the database: SQLite's own checks (`integrityProblems`) exist only there.
    public var engine: DatabaseLocation.Engine { database.engine }

    /// A consistent copy of the database in the new file `destination` (SQLite's online backup:
    /// one snapshot, taken while the daemon keeps writing).
    func backup(to destination: BackupDestination) throws {
        try database.backup(to: destination)
    }

    /// The schema version the database records (`PRAGMA user_version`).
    public func schemaVersion() throws -> Int {
        try Schema.version(of: database)
    }

    /// `PRAGMA integrity_check`'s findings; empty when it says `ok`. SQLite's alone: on
    /// PostgreSQL there is no such check to run (the server keeps its files consistent; its
    /// checksums and `amcheck` are the DBA's) and nothing is found.
    public func integrityProblems() throws -> [String] {
        guard database.engine == .sqlite else { return [] }
        let lines = try database.query("PRAGMA integrity_check", []) { $0.text(0) }
        return lines == ["ok"] ? [] : lines
    }

    /// Whether a claim file's name is recorded as a request (the claim name is unique).
    public func isClaimRecorded(claimName: String) throws -> Bool {
        try database.queryOne("SELECT 1 FROM requests WHERE claim_name = ?", [.text(claimName)]) { _ in true } ?? false
    }

    /// Where a request's result folder should be, as far as the database knows.
    public enum ExpectedFolder: Sendable, Equatable {
        /// Written at the request's current or an earlier state: the folder must be there.
        case present
        /// Not written yet, or being written, retired or restored: either way is right for now.
        case pending
        /// Removed by retention: the folder must be gone.
        case removed
    }

    /// Every request with the folder its state calls for, in id order, streamed.
    public func eachRequestFolder(_ body: (_ id: Int, _ tenant: String, _ expected: ExpectedFolder) throws -> Void) throws {
        try database.each("SELECT id, tenant, results_version, results_state FROM requests ORDER BY id", []) { s in
            let expected: ExpectedFolder
            switch (s.int("results_version"), s.text("results_state")) {
            case (let written, "present") where written > 0: expected = .present
            case (_, "removed"): expected = .removed
            default: expected = .pending
            }
            try body(s.int("id"), s.text("tenant"), expected)
        }
    }

    /// The ids of `tenant`'s requests (to tell a result folder of no request).
    public func requestIDs(tenant: String) throws -> Set<Int> {
        Set(try database.query("SELECT id FROM requests WHERE tenant = ?", [.text(tenant)]) { $0.int("id") })
    }

    /// Every request and row whose stored values do not decode (an unknown status, row state,
    /// code or configuration type), each as its `RecordError`, at most `limit`: the engine
    /// fails such a request alone, but `check` should say which before it does.
    public func undecodableRecords(limit: Int = 100) throws -> [String] {
        var found: [String] = []
        try database.each("SELECT \(StateStore.requestColumns) FROM requests ORDER BY id", []) { s in
            guard found.count < limit else { return }
            do { _ = try StateStore.request(s) } catch { found.append("\(error)") }
        }
        try database.each("SELECT \(StateStore.rowColumns), request FROM rows ORDER BY request, position", []) { s in
            guard found.count < limit else { return }
            do { _ = try StateStore.row(s, request: RequestID(s.int("request"))) } catch { found.append("\(error)") }
        }
        return found
    }
}
