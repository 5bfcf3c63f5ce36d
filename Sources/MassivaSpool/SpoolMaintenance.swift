import MassivaDatabase
import MassivaDomain
import MassivaStore
import MassivaSystem

/// `massiva backup` and `massiva check`: the spool's database copied while the daemon runs,
/// and the spool's files checked against what the database records.
public enum SpoolMaintenance {
    public struct BackupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `massiva backup` asked of a spool whose database is not the embedded file: nothing to
    /// copy here (a configuration matter, not a failure of the copy).
    public struct BackupRefused: Error, CustomStringConvertible {
        public let description: String
    }

    /// Copies the database of `layout` to `destination` (see `BackupCopy`): into a
    /// temporary name beside the destination (so the final `rename` never crosses file
    /// systems), synced, then renamed into place and its folder synced. Without `replace` an
    /// existing destination is refused, atomically (`RENAME_NOREPLACE`), even if it appears
    /// while the copy is made. A failure leaves no temporary file behind.
    ///
    /// The destination is the operator's: it is looked for, the temporary made and opened, and
    /// the rename done as `caller`; the spool's database is read with the process's own ids
    /// (the spool owner's, for a command run as root) and copied through the temporary's open
    /// connection. So a backup into root's 0700 folder can be made, and is root's, and nothing
    /// in the spool is made by root.
    ///
    /// `database` is the spool's configured database (nil: the embedded file): a PostgreSQL one
    /// is refused (`BackupRefused`) before anything is opened or made; pg_dump backs it up.
    public static func backup(_ layout: SpoolLayout, database: DatabaseLocation? = nil, to destination: String,
                              replace: Bool, caller: CallerIdentity = .current) throws {
        if let database, case .postgresql = database {
            throw BackupRefused(description: "the database is PostgreSQL (\(database)): massiva backup copies only the "
                                + "embedded SQLite file; back it up with pg_dump (pg_dump -Fc -f FILE '\(database)'), "
                                + "or the server's own backups")
        }
        guard FileSystem.exists(layout.databasePath) else {
            throw BackupError(description: "no database at \(layout.databasePath)")
        }
        let directory = FileSystem.parentDirectory(of: destination)
        let temporary = directory + "/" + TemporaryName.make()
        do {
            let (file, copy) = try caller.run { () throws -> (FileDescriptor, BackupCopy) in
                if !replace && FileSystem.exists(destination) {
                    throw BackupError(description: "\(destination) exists; --force replaces it")
                }
                // Made first, empty, 0600 (SQLite takes an empty file for a new database): the
                // copy holds the holders' tax codes and every upload, and SQLite would create it
                // world-readable by the umask.
                let created = try FileDescriptor.open(temporary, .writeOnly,
                                                      options: [.create, .exclusiveCreate, .noFollow, .closeOnExec], permissions: 0o600)
                do {
                    try created.setPermissions(0o600)
                    return (created, try BackupCopy(newFile: temporary))
                } catch {
                    try? created.close()
                    throw error
                }
            }
            try file.closeAfter { file in
                // Its own connection (and no migration): a backup copies what is there.
                try copy.copy(from: layout.databasePath)
                // SQLite syncs what it writes only as its journal mode asks: sync the whole file
                // before it takes the final name, so a crash never leaves a backup half on disk.
                try file.sync()
            }
            try caller.run {
                if replace {
                    try FileSystem.rename(from: temporary, to: destination)
                } else {
                    try FileSystem.renameNoReplace(from: temporary, to: destination)
                }
                try FileSystem.fsyncDirectory(directory)
            }
        } catch {
            caller.run {
                try? FileSystem.unlink(temporary)
                for suffix in ["-journal", "-wal", "-shm"] { try? FileSystem.unlink(temporary + suffix) }
            }
            if let system = error as? SystemError, system.errno == .fileExists {
                throw BackupError(description: "\(destination) exists; --force replaces it")
            }
            throw error
        }
    }

    /// Everything wrong with the spool, each as `where: what`; empty when all is well.
    /// `database` is the spool's configured database (nil: the embedded file); a PostgreSQL one
    /// that cannot be reached is thrown (`DatabaseUnavailableError`), not listed: nothing of
    /// the spool could be checked.
    ///
    /// - SQLite's `integrity_check` of the database (an embedded one only: PostgreSQL has no
    ///   such statement, nor any PRAGMA), and its schema version against this binary's;
    /// - every request's status and every row's state, code and configuration type are values
    ///   this binary knows (a corrupted or hand-edited record);
    /// - every upload in `private/claim/` is recorded as a request (a crash leaves it there
    ///   until `serve` records it when it next starts; while a daemon runs one may be seen for
    ///   the instant between the claim and its commit);
    /// - every request whose result files were written has its folder (with `stato.json`) in
    ///   its tenant's `results/`, one removed by retention has none, and no folder there is of
    ///   no request of that tenant (folders still pending are right either way);
    /// - nothing under `results/` is a temporary or hidden file an SI could see.
    public static func check(_ layout: SpoolLayout, database location: DatabaseLocation? = nil) throws -> [String] {
        var problems: [String] = []
        let location = location ?? .sqlite(path: layout.databasePath)
        // How the lines name the database: the file's path, or the URI without a password.
        let name = location.description
        let database: Maintenance
        switch location {
        case .sqlite(let path):
            guard FileSystem.exists(path) else { return ["\(name): no database"] }
            do { database = try Maintenance(path: path) } catch {
                return ["\(name): cannot be opened: \(error)"]
            }
            do {
                for line in try database.integrityProblems() {
                    problems.append("\(name): integrity_check: \(line)")
                }
            } catch {
                problems.append("\(name): integrity_check failed: \(error)")
            }
        case .postgresql:
            database = try Maintenance(location: location)
        }
        do {
            let version = try database.schemaVersion()
            if version > Schema.currentVersion || version < 0 {
                problems.append("\(name): schema version \(version) is unknown to this binary (it knows up to \(Schema.currentVersion))")
            }
        } catch {
            problems.append("\(name): schema version unreadable: \(error)")
        }
        do {
            for record in try database.undecodableRecords() {
                problems.append("\(name): unknown stored value: \(record)")
            }
        } catch {
            problems.append("\(name): records unreadable: \(error)")
        }
        checkClaims(layout, database, &problems)
        checkResults(layout, database, name: name, &problems)
        return problems
    }

    static func checkClaims(_ layout: SpoolLayout, _ database: Maintenance, _ problems: inout [String]) {
        let claimRoot = layout.privateDirectory + "/claim"
        for tenant in ((try? FileSystem.listDirectory(claimRoot)) ?? []).sorted() {
            let directory = layout.claimDirectory(tenant)
            for name in ((try? FileSystem.listDirectory(directory)) ?? []).sorted() where !name.hasPrefix(".") {
                // Dot-names are the sidecars of shortened claim names, never claims themselves.
                do {
                    if try !database.isClaimRecorded(claimName: name) {
                        problems.append("\(directory)/\(name): claimed upload not recorded as a request (serve records it when it next starts)")
                    }
                } catch {
                    problems.append("\(directory)/\(name): cannot be looked up: \(error)")
                }
            }
        }
    }

    static func checkResults(_ layout: SpoolLayout, _ database: Maintenance, name: String, _ problems: inout [String]) {
        let tenants = ((try? FileSystem.listDirectory(layout.tenantsDirectory)) ?? []).sorted()
        // Tenants whose results/ is a real folder: a linked one is refused by the engine, and
        // nothing is read through it here either.
        var readable = Set<String>()
        for tenant in tenants {
            let results = layout.results(tenant)
            guard let status = try? FileStatus.ofLink(results) else { continue }
            guard status.kind == .directory else {
                problems.append("\(results): not a folder (\(status.kind)): the engine writes no result through it")
                continue
            }
            readable.insert(tenant)
            walkForHidden(results, &problems)
            let known = (try? database.requestIDs(tenant: tenant)) ?? []
            for name in ((try? FileSystem.listDirectory(results)) ?? []).sorted() where name.hasPrefix("MOME-") {
                if let id = RequestID(parsing: name), known.contains(id.number) { continue }
                problems.append("\(results)/\(name): result folder of no request of tenant \(tenant)")
            }
        }
        do {
            try database.eachRequestFolder { number, tenant, expected in
                guard readable.contains(tenant) else { return }
                let folder = layout.resultFolder(tenant, RequestID(number).description)
                switch expected {
                case .present:
                    if !FileSystem.exists(folder) {
                        problems.append("\(folder): missing: the request's result files were written (show --restore writes them again)")
                    } else if !FileSystem.exists(folder + "/stato.json") {
                        problems.append("\(folder)/stato.json: missing")
                    }
                case .removed:
                    if FileSystem.exists(folder) { problems.append("\(folder): present, but retention removed it") }
                case .pending:
                    break
                }
            }
        } catch {
            problems.append("\(name): requests unreadable: \(error)")
        }
    }

    /// Temporary or hidden names anywhere under `directory`: result files are written under
    /// `private/tmp/` and renamed in whole, so such a name is a leftover an SI could download.
    static func walkForHidden(_ directory: String, _ problems: inout [String]) {
        for name in ((try? FileSystem.listDirectory(directory)) ?? []).sorted() {
            let path = directory + "/" + name
            let lower = name.lowercased()
            if name.hasPrefix(".") || lower.hasSuffix(".tmp") || lower.hasSuffix(".part") {
                problems.append("\(path): temporary or hidden file visible to the SI")
            }
            if let status = try? FileStatus.ofLink(path), status.kind == .directory { walkForHidden(path, &problems) }
        }
    }
}
