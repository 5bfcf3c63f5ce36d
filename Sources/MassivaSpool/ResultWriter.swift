import MassivaCSV
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

    /// Refreshes up to `limit` stale requests and the request lists of their tenants, then the
    /// stale associazioni.csv lists. Returns how many requests were refreshed.
    @discardableResult
    public func refresh(limit: Int = 256) throws -> Int {
        let stale = try store.staleRequests(limit: limit)
        if stale.isEmpty {
            try refreshAssociationLists()
            return 0
        }
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
        try refreshAssociationLists()
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
        var writer = CSVWriter(delimiter: .semicolon, crlf: true, bom: bom)
        writer.write(Self.associationListHeader)
        for row in rows { writer.write(row.cells) }
        return writer.bytes
    }
}

extension ResultWriter {
    /// Rewrites `results/associazioni.csv` of every tenant whose associations changed since it
    /// was last written (and of tenants that never had one), atomically. Returns how many.
    @discardableResult
    public func refreshAssociationLists() throws -> Int {
        let stale = try store.staleAssociationLists()
        if stale.isEmpty { return 0 }
        var batch = AtomicFileBatch(temporaryDirectory: layout.temporaryDirectory)
        do {
            for (tenant, _) in stale {
                let folder = layout.results(tenant)
                if !FileSystem.exists(folder) { try FileSystem.makeDirectory(folder, intermediate: true) }
                try batch.stage(files.associationList(try store.associationListRows(tenant: tenant)), to: folder + "/associazioni.csv")
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
