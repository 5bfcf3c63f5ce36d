import MassivaDomain
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

    public init(layout: SpoolLayout, store: StateStore, files: ResultFiles) {
        self.layout = layout
        self.store = store
        self.files = files
    }

    /// Refreshes up to `limit` stale requests and the request lists of their tenants.
    /// Returns how many requests were refreshed.
    @discardableResult
    public func refresh(limit: Int = 256) throws -> Int {
        let stale = try store.staleRequests(limit: limit)
        if stale.isEmpty { return 0 }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        var tenants: Set<String> = []
        for request in stale {
            tenants.insert(request.tenant)
            try stage(request, into: &batch)
        }
        for tenant in tenants.sorted() {
            let list = files.requestList(try store.requests(tenant: tenant))
            try batch.stage(list, to: layout.results(tenant) + "/richieste.csv")
        }
        try batch.commit()
        try store.database.transaction {
            for request in stale { try store.markResultsWritten(request.id, version: request.stateVersion) }
        }
        return stale.count
    }

    func stage(_ request: RequestRecord, into batch: inout AtomicFileBatch) throws {
        let folder = layout.resultFolder(request.tenant, request.id.description)
        if request.resultsVersion == 0 || !FileSystem.exists(folder) {
            try FileSystem.makeDirectory(folder, intermediate: true)
            if let content = try store.content(of: request.id) {
                try batch.stage(content, to: folder + "/richiesta.csv")
            }
        }
        if request.status == .processing || request.status == .done {
            let rows = try store.rows(of: request.id)
            try batch.stage(files.esito(request: request, tenantName: try tenantName(request.tenant), rows: rows), to: folder + "/esito.csv")
            let zipTemp = batch.temporaryPath()
            try ZipArchive.write(entries: ResultFiles.scripts(request: request, rows: rows), to: zipTemp,
                                 modificationTime: nil, sync: false)
            try batch.stage(temporaryFile: zipTemp, to: folder + "/scp.zip")
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
