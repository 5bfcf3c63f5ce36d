import MassivaCSV
import MassivaDomain
import MassivaRegistry
import MassivaSpool
import MassivaStore
import MassivaSystem

/// Brings the result folders up to date with the state database.
///
/// Files are written under `private/tmp`, made durable with one `syncfs` per batch, then renamed
/// into `results/`: an SI never sees a half-written or temporary file. Only after the renames
/// does the database record which state the files show, so a crash in between just means the
/// next refresh writes them again.
public final class ResultWriter {
    public let layout: SpoolLayout
    public let store: StateStore
    public var files: ResultFiles
    private var tenantNames: [String: String] = [:]
    /// The most bytes of uploads (richiesta.csv) read into one batch of result files.
    public var batchBytes = 8 * 1_048_576
    /// Requests of tenants refused by `TenantFolderCheck` in the snapshot being read.
    private var skippedForLinks: [Written] = []

    /// Where the time a request's files are recorded as written comes from (its result time,
    /// where the drop-to-result latency ends): the engine's clock.
    public var clock: @Sendable () -> Double

    public init(layout: SpoolLayout, store: StateStore, files: ResultFiles, clock: @escaping @Sendable () -> Double) {
        self.layout = layout
        self.store = store
        self.files = files
        self.clock = clock
    }

    /// What one request's result files are made from, read in one snapshot.
    struct Snapshot {
        var request: RequestRecord
        var tenantName: String
        var rows: [RowRecord]
        /// The uploaded bytes, when richiesta.csv is still to be written.
        var content: [UInt8]?
        var folderExists: Bool
    }

    /// Refreshes up to `limit` stale requests, then the request lists (richieste.csv) of their
    /// tenants. Returns how many requests were refreshed. (associazioni.csv:
    /// `refreshAssociationLists`.)
    @discardableResult
    public func refresh(limit: Int = 256) throws -> Int {
        let n = try refreshFiles(limit: limit)
        try refreshRequestLists()
        return n
    }

    /// Refreshes up to `limit` stale requests' folders only (the engine has the lists written
    /// on a thread of their own). Returns how many.
    @discardableResult
    public func refreshFiles(limit: Int = 256) throws -> Int {
        let written = try write(limit: limit)
        try markWritten(written)
        return written.count
    }

    /// Which state of a request its files now show.
    public struct Written: Sendable, Equatable {
        public var id: RequestID
        public var version: Int
    }

    /// Writes the files of up to `limit` stale requests, except those already written at their
    /// current version (`skipping`), without recording it: see `markWritten`. The tenants'
    /// richieste.csv are written after (`refreshRequestLists`), on their own: a request's files
    /// never wait for a list of the tenant's whole history (issue 10: with 5,000 requests in
    /// one tenant the list was rewritten with every batch and a file took p50 379 ms).
    /// How long a writer waits for the results or lists lock before it gives up this time
    /// (the files are written at a later pass: results_version catches up). Another writer
    /// holds it for tens of ms; one that holds it longer is stopped (a paused former leader on
    /// a shared spool), and the engine must not stop with it.
    static let lockWait = 10.0

    public func write(limit: Int, skipping: [RequestID: Int] = [:]) throws -> [Written] {
        // Held from the snapshot to the renames: another writer (the daemon's result thread, or
        // an operator command) cannot rename files of an older state over newer ones.
        let lock = try FileLock.acquire(layout.resultsLockPath, waitingAtMost: Self.lockWait)
        defer { try? lock.release() }
        // Read everything in one snapshot, then render and write outside any transaction, so
        // the processing connection is never held up by file I/O.
        let snapshots = try store.readTransaction { () throws -> [Snapshot] in
            let stale = try store.staleRequests(limit: limit + skipping.count)
                .filter { skipping[$0.id] != $0.stateVersion }.prefix(limit)
            var snapshots: [Snapshot] = []
            var refusedTenants: [String: Bool] = [:]
            var contentBytes = 0
            for request in stale {
                // A tenant whose folders are links gets no files (they would land outside the
                // spool): its requests count as written, and the intake logs the refusal.
                let refused = refusedTenants[request.tenant] ?? (TenantFolderCheck.problem(layout, tenant: request.tenant) != nil)
                refusedTenants[request.tenant] = refused
                if refused {
                    skippedForLinks.append(Written(id: request.id, version: request.stateVersion))
                    continue
                }
                let folder = layout.resultFolder(request.tenant, request.id.description)
                // A folder being restored is written whole, whatever retention left of it.
                let exists = request.resultsVersion > 0 && request.resultsState == .present && FileSystem.exists(folder)
                let hasRows = request.status == .processing || request.status == .done
                let content = exists ? nil : try store.content(of: request.id)
                snapshots.append(Snapshot(request: request, tenantName: try tenantName(request.tenant),
                                          rows: hasRows ? try store.rows(of: request.id) : [],
                                          content: content, folderExists: exists))
                // Bounded by bytes as well as by count: the uploads' copies (richiesta.csv) of
                // a chunk of new requests are held until written. The rest wait for the next call.
                contentBytes += content?.count ?? 0
                if contentBytes >= batchBytes { break }
            }
            return snapshots
        }
        let skipped = skippedForLinks
        skippedForLinks = []
        if snapshots.isEmpty { return skipped }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        do {
            for snapshot in snapshots { try stage(snapshot, into: &batch) }
            try batch.commit()
        } catch {
            batch.discard()
            throw error
        }
        return skipped + snapshots.map { Written(id: $0.request.id, version: $0.request.stateVersion) }
    }

    /// Records that the files show these states (they are no longer stale), and that their
    /// tenants' richieste.csv are to be written.
    public func markWritten(_ written: [Written]) throws {
        if written.isEmpty { return }
        let now = clock()
        try store.markResultsWritten(written.map { ($0.id, $0.version) }, now: now)
    }

    func stage(_ snapshot: Snapshot, into batch: inout AtomicFileBatch) throws {
        let request = snapshot.request
        let folder = layout.resultFolder(request.tenant, request.id.description)
        if !snapshot.folderExists {
            try FileSystem.makeDirectory(folder, intermediate: true)
            // Exact, whatever the umask: the gate that keeps other SIs out is results/ itself
            // (the tenant's group only); inside it everything is readable by whoever got in.
            try FileSystem.setPermissions(folder, 0o755)
        }
        if let content = snapshot.content {
            try batch.stage(content, to: folder + "/richiesta.csv")
        }
        if request.status == .processing || request.status == .done {
            try batch.stage(files.esito(request: request, tenantName: snapshot.tenantName, rows: snapshot.rows), to: folder + "/esito.csv")
            let zip = try ZipArchive.archive(entries: try ResultFiles.scripts(request: request, rows: snapshot.rows), modificationTime: nil)
            try batch.stage(zip, to: folder + "/scp.zip")
        }
        try batch.stage(ResultFiles.stato(request), to: folder + "/stato.json")
    }

    func tenantName(_ id: String) throws -> String {
        if let name = tenantNames[id] { return name }
        let name = try store.tenant(id)?.name ?? id
        tenantNames[id] = name
        return name
    }
}

// MARK: associazioni.csv

/// One line of the association report (the manual's Tabella 1, plus GESIS).
public struct AssociationListRow: Sendable, Equatable {
    public var pod: String
    public var sid: String
    public var nid: String
    public var deviceType: String
    public var configurationType: String
    public var productionPOD: String
    public var configurator: String
    public var tenant: String
    /// DITTA CONFIGURATRICE: the tenant's *ragione sociale*.
    public var tenantName: String
    public var createdAt: Double
    public var gesis: Bool

    public init(pod: String, sid: String, nid: String, deviceType: String, configurationType: String, productionPOD: String,
                configurator: String, tenant: String, tenantName: String, createdAt: Double, gesis: Bool) {
        self.pod = pod
        self.sid = sid
        self.nid = nid
        self.deviceType = deviceType
        self.configurationType = configurationType
        self.productionPOD = productionPOD
        self.configurator = configurator
        self.tenant = tenant
        self.tenantName = tenantName
        self.createdAt = createdAt
        self.gesis = gesis
    }

    /// The line of an association the registry listed; `tenantName` is its tenant's.
    public init(_ listed: ListedAssociation, tenantName: String) {
        let a = listed.association
        self.init(pod: a.pod, sid: a.sid, nid: a.nid, deviceType: a.deviceType, configurationType: a.configurationType.rawValue,
                  productionPOD: a.productionPOD ?? "", configurator: a.configurator, tenant: a.tenant, tenantName: tenantName,
                  createdAt: a.createdAt, gesis: listed.isGesis)
    }

    /// The cells under `ResultFiles.associationListHeader`.
    public var cells: [String] {
        [pod, sid, nid, deviceType, configurationType, productionPOD, configurator, tenantName,
         SystemClock.iso8601(createdAt), gesis ? "SI" : ""]
    }
}

extension ResultFiles {
    /// The columns of Tabella 1 ("Report associazioni"), then GESIS as in esito.csv.
    public static let associationListHeader = ["POD", "SID", "NID", "TIPO DISPOSITIVO", "TIPO ASSOCIAZIONE", "POD PRODUZIONE",
                                               "NOME CONFIGURATORE", "DITTA CONFIGURATRICE", "DATA ASSOCIAZIONE", "GESIS"]

    /// associazioni.csv, and the CSV of `massiva report --csv`: same dialect as esito.csv.
    public func associationList(_ rows: [AssociationListRow]) -> [UInt8] {
        var writer = CSVWriter(delimiter: .semicolon, crlf: true, encoding: encoding)
        writer.write(Self.associationListHeader)
        for row in rows { writer.write(row.cells) }
        return writer.bytes
    }
}

extension ResultWriter {
    /// Brings `results/associazioni.csv` of every tenant whose associations changed since it
    /// was last written (and of tenants that never had one) up to date, atomically, streaming
    /// from `registry`. Returns how many.
    ///
    /// When only associations were made since the file was written (none removed, the registry
    /// not re-imported with changes), the new file is a copy of the old one plus the new lines
    /// (`(created_at, pod)` after the last one written), checked by count: rendering 500,000
    /// lines took about 2 s, copying their 60 MB a few tens of ms. Otherwise it is written whole.
    @discardableResult
    public func refreshAssociationLists(from registry: any Registry) throws -> Int {
        // The lists' own lock: a request's files never wait for a tenant's whole list.
        let lock = try FileLock.acquire(layout.listsLockPath, waitingAtMost: Self.lockWait)
        defer { try? lock.release() }
        let stale = try store.staleAssociationLists()
        if stale.isEmpty { return 0 }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        var written: [(state: StateStore.AssociationListState, lines: Int, through: (createdAt: Double, pod: String)?)] = []
        do {
            for list in stale {
                // A tenant whose folders are links gets no list (it would land outside the
                // spool); recorded as written with nothing in it, so it is written whole later.
                if TenantFolderCheck.problem(layout, tenant: list.tenant) != nil {
                    written.append((list, 0, nil))
                    continue
                }
                let folder = layout.results(list.tenant)
                if !FileSystem.exists(folder) { try FileSystem.makeDirectory(folder, intermediate: true) }
                let tenantName = try self.tenantName(list.tenant)
                let target = folder + "/associazioni.csv"
                var lines = 0
                var through: (createdAt: Double, pod: String)? = nil
                // One read transaction: the count and the lines from the same view.
                let path = try store.readTransaction { () throws -> String in
                    let total = try registry.associationCount(tenant: list.tenant)
                    if !list.removedSinceWritten, let last = list.writtenThrough, FileSystem.exists(target),
                       let appended = try? StreamedCSVFile.appending(to: target, in: layout.temporaryDirectory, encoding: files.encoding, rows: { row in
                           try registry.eachAssociation(tenant: list.tenant, after: last) { a in
                               try row(AssociationListRow(a, tenantName: tenantName).cells)
                               lines += 1
                               through = (a.association.createdAt, a.association.pod)
                           }
                       }) {
                        if list.writtenLines + lines == total {
                            lines = total
                            through = through ?? last
                            return appended
                        }
                        // An association made with an earlier time than the last line's (a
                        // clock set back): the copy would miss it. Written whole instead.
                        try? FileSystem.unlink(appended)
                    }
                    lines = 0
                    through = nil
                    return try StreamedCSVFile.write(in: layout.temporaryDirectory, header: ResultFiles.associationListHeader,
                                                     encoding: files.encoding) { row in
                        try registry.eachAssociation(tenant: list.tenant) { a in
                            try row(AssociationListRow(a, tenantName: tenantName).cells)
                            lines += 1
                            through = (a.association.createdAt, a.association.pod)
                        }
                    }
                }
                batch.stage(temporaryFile: path, to: target)
                written.append((list, lines, through))
            }
            try batch.commit()
        } catch {
            batch.discard()
            throw error
        }
        try store.transaction {
            for w in written {
                try store.markAssociationListWritten(tenant: w.state.tenant, version: w.state.version, lines: w.lines, through: w.through)
            }
        }
        return stale.count
    }
}

// MARK: richieste.csv

extension ResultWriter {
    /// Writes the richieste.csv of every tenant whose request list is stale, streamed from one
    /// snapshot (only requests whose folder is in `results/`: written, not retired), then
    /// records it. Returns how many.
    @discardableResult
    public func refreshRequestLists() throws -> Int {
        let lock = try FileLock.acquire(layout.listsLockPath, waitingAtMost: Self.lockWait)
        defer { try? lock.release() }
        let (stale, paths) = try store.readTransaction { () throws -> ([(tenant: String, version: Int)], [String]) in
            let stale = try store.staleRequestLists()
            var paths: [String] = []
            do {
                for (tenant, _) in stale {
                    // A tenant whose folders are links: an empty path, nothing written there.
                    if TenantFolderCheck.problem(layout, tenant: tenant) != nil { paths.append(""); continue }
                    paths.append(try StreamedCSVFile.write(in: layout.temporaryDirectory, header: ResultFiles.requestListHeader,
                                                           encoding: files.encoding) { row in
                        try store.eachListedRequest(tenant: tenant) { try row(ResultFiles.requestListCells($0)) }
                    })
                }
            } catch {
                for path in paths where !path.isEmpty { try? FileSystem.unlink(path) }
                throw error
            }
            return (stale, paths)
        }
        if stale.isEmpty { return 0 }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        do {
            for ((tenant, _), path) in zip(stale, paths) where !path.isEmpty {
                let folder = layout.results(tenant)
                if !FileSystem.exists(folder) { try FileSystem.makeDirectory(folder, intermediate: true) }
                batch.stage(temporaryFile: path, to: folder + "/richieste.csv")
            }
            try batch.commit()
        } catch {
            batch.discard()
            throw error
        }
        try store.transaction {
            for (tenant, version) in stale { try store.markRequestListWritten(tenant: tenant, version: version) }
        }
        return stale.count
    }
}

// MARK: Retention

extension ResultWriter {
    /// Retention, steps 1, 3 and 4 (see `StateStore.retire`): requests finished before `cutoff`
    /// leave richieste.csv (written here, step 2) and then `results/`. Returns how many folders
    /// were removed. Safe to call again after a crash at any point: each step is repeated or
    /// finds nothing to do.
    @discardableResult
    public func applyRetention(cutoff: Double, limit: Int = 256) throws -> Int {
        try store.retire(finishedBefore: cutoff, limit: limit)
        try refreshRequestLists()
        return try removeRetiredFolders(limit: limit)
    }

    /// Step 3 and 4: removes the folders of retiring requests no longer listed, then records it.
    @discardableResult
    public func removeRetiredFolders(limit: Int = 256) throws -> Int {
        // The results lock: a writer that read such a request before it was retired has renamed
        // its files by now, and none will again (stale requests exclude retiring ones).
        let lock = try FileLock.acquire(layout.resultsLockPath, waitingAtMost: Self.lockWait)
        defer { try? lock.release() }
        let retiring = try store.retiringRequests(limit: limit)
        if retiring.isEmpty { return 0 }
        for r in retiring { try removeFolder(layout.resultFolder(r.tenant, r.id.description)) }
        try store.markRemoved(retiring.map(\.id))
        return retiring.count
    }

    /// A request's folder and its files (only files: the daemon writes nothing else there); a
    /// folder already gone, or partly gone after a crash, is fine.
    func removeFolder(_ folder: String) throws {
        var names: [String] = []
        do throws(SystemError) { names = try FileSystem.listDirectory(folder) } catch {
            if error.errno != .noSuchFileOrDirectory { throw error }
        }
        for name in names {
            do throws(SystemError) { try FileSystem.unlink(folder + "/" + name) } catch {
                if error.errno != .noSuchFileOrDirectory { throw error }
            }
        }
        do throws(SystemError) { try FileSystem.removeDirectory(folder) } catch {
            if error.errno != .noSuchFileOrDirectory { throw error }
        }
    }
}
