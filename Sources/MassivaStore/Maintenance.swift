import MassivaDatabase
import MassivaDomain

/// What `massiva backup` and `massiva check` ask of the database: the online backup, SQLite's
/// own integrity check, and the records the spool's files are checked against.
public enum Maintenance {
    /// A consistent copy of `database` in the new file `destination` (SQLite's online backup:
    /// one snapshot, taken while the daemon keeps writing).
    public static func backup(_ database: Database, to destination: BackupDestination) throws {
        try database.backup(to: destination)
    }

    /// `PRAGMA integrity_check`'s findings; empty when it says `ok`.
    public static func integrityProblems(_ database: Database) throws -> [String] {
        let lines = try database.query("PRAGMA integrity_check", []) { $0.text(0) }
        return lines == ["ok"] ? [] : lines
    }

    /// Whether a claim file's name is recorded as a request (the claim name is unique).
    public static func isClaimRecorded(_ database: Database, claimName: String) throws -> Bool {
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
    public static func eachRequestFolder(_ database: Database,
                                         _ body: (_ id: Int, _ tenant: String, _ expected: ExpectedFolder) throws -> Void) throws {
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
    public static func requestIDs(_ database: Database, tenant: String) throws -> Set<Int> {
        Set(try database.query("SELECT id FROM requests WHERE tenant = ?", [.text(tenant)]) { $0.int("id") })
    }

    /// Every request and row whose stored values do not decode (an unknown status, row state,
    /// code or configuration type), each as its `RecordError`, at most `limit`: the engine
    /// fails such a request alone, but `check` should say which before it does.
    public static func undecodableRecords(_ database: Database, limit: Int = 100) throws -> [String] {
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
