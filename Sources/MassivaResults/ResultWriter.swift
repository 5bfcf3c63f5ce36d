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

    public init(layout: SpoolLayout, store: StateStore, files: ResultFiles) {
        self.layout = layout
        self.store = store
        self.files = files
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

    /// Refreshes up to `limit` stale requests and the request lists of their tenants.
    /// Returns how many requests were refreshed. (associazioni.csv: `refreshAssociationLists`.)
    @discardableResult
    public func refresh(limit: Int = 256) throws -> Int {
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
    /// current version (`skipping`), without recording it: see `markWritten`.
    public func write(limit: Int, skipping: [RequestID: Int] = [:]) throws -> [Written] {
        // Held from the snapshot to the renames: another writer (the daemon's result thread, or
        // an operator command) cannot rename files of an older state over newer ones.
        let lock = try FileLock.acquire(layout.resultsLockPath)
        defer { try? lock.release() }
        // Read everything in one snapshot, then render and write outside any transaction, so
        // the processing connection is never held up by file I/O.
        let (snapshots, lists) = try store.database.readTransaction { () throws -> ([Snapshot], [String: String]) in
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
                let exists = request.resultsVersion > 0 && FileSystem.exists(folder)
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
            // richieste.csv of each tenant concerned, streamed from the same snapshot.
            var lists: [String: String] = [:]
            for tenant in Set(snapshots.map(\.request.tenant)) {
                do {
                    lists[tenant] = try StreamedCSVFile.write(in: layout.temporaryDirectory, header: ResultFiles.requestListHeader,
                                                              encoding: files.encoding) { row in
                        try store.eachRequest(tenant: tenant) { try row(ResultFiles.requestListCells($0)) }
                    }
                } catch {
                    for path in lists.values { try? FileSystem.unlink(path) }
                    throw error
                }
            }
            return (snapshots, lists)
        }
        let skipped = skippedForLinks
        skippedForLinks = []
        if snapshots.isEmpty { return skipped }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        do {
            for (tenant, path) in lists.sorted(by: { $0.key < $1.key }) {
                batch.stage(temporaryFile: path, to: layout.results(tenant) + "/richieste.csv")
            }
            for snapshot in snapshots { try stage(snapshot, into: &batch) }
            try batch.commit()
        } catch {
            batch.discard()
            throw error
        }
        return skipped + snapshots.map { Written(id: $0.request.id, version: $0.request.stateVersion) }
    }

    /// Records that the files show these states (they are no longer stale).
    public func markWritten(_ written: [Written]) throws {
        if written.isEmpty { return }
        try store.database.transaction {
            for w in written { try store.markResultsWritten(w.id, version: w.version) }
        }
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
    /// Rewrites `results/associazioni.csv` of every tenant whose associations changed since it
    /// was last written (and of tenants that never had one), atomically, streaming each list
    /// from `registry`. Returns how many.
    @discardableResult
    public func refreshAssociationLists(from registry: any Registry) throws -> Int {
        let lock = try FileLock.acquire(layout.resultsLockPath)
        defer { try? lock.release() }
        let stale = try store.staleAssociationLists()
        if stale.isEmpty { return 0 }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        do {
            for (tenant, _) in stale where TenantFolderCheck.problem(layout, tenant: tenant) == nil {
                let folder = layout.results(tenant)
                if !FileSystem.exists(folder) { try FileSystem.makeDirectory(folder, intermediate: true) }
                let path = try StreamedCSVFile.write(in: layout.temporaryDirectory, header: ResultFiles.associationListHeader,
                                                     encoding: files.encoding) { row in
                    let tenantName = try self.tenantName(tenant)
                    try registry.eachAssociation(tenant: tenant) { try row(AssociationListRow($0, tenantName: tenantName).cells) }
                }
                batch.stage(temporaryFile: path, to: folder + "/associazioni.csv")
            }
            try batch.commit()
        } catch {
            batch.discard()
            throw error
        }
        try store.database.transaction {
            for (tenant, version) in stale { try store.markAssociationListWritten(tenant: tenant, version: version) }
        }
        return stale.count
    }
}
