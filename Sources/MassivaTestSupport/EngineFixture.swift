import Foundation
import Glibc
import Testing
import MassivaConfig
import MassivaCSV
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaResults
import MassivaStore
import MassivaRegistry
import MassivaSpool
import MassivaSystem

/// One engine on its own temporary spool, with a fake clock, jitter 0 and a captured log.
public final class EngineFixture {
    public let root: String
    public let layout: SpoolLayout
    public let clock: FakeClock
    public let configuration: Configuration
    public let database: Database
    /// The spool's database: its SQLite file, or a fresh PostgreSQL database of the test
    /// cluster when `MASSIVA_TEST_DATABASE=postgresql` (`TestDatabase`).
    public let databaseLocation: DatabaseLocation
    public let store: StateStore
    public let registry: EmbeddedRegistry
    public let logged = LogCapture()
    public let engine: Engine
    /// Files dropped so far: their names aside before the rename.
    private var dropped = 0

    /// - Parameter change: adjusts `Configuration.defaults` (spool, settle time 0 already set).
    public init(_ change: (inout Configuration) -> Void = { _ in }) throws {
        var template = Array((temporaryRoot() + "/massiva-engine-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        var configuration = Configuration.defaults
        configuration.spoolDirectory = root + "/spool"
        configuration.settleTime = 0
        configuration.minimalBackoffTime = 10
        configuration.maximalBackoffTime = 40
        change(&configuration)
        self.configuration = configuration
        layout = SpoolLayout(root: configuration.spoolDirectory)
        for d in [layout.tenantsDirectory, layout.privateDirectory, layout.temporaryDirectory] {
            try FileSystem.makeDirectory(d, intermediate: true)
        }
        // Ahead of the real time, so every file written during the test has settled.
        clock = FakeClock(SystemClock.now.rounded(.down) + 1000)
        databaseLocation = try TestDatabase.location(embeddedPath: layout.databasePath)
        database = try Schema.open(databaseLocation)
        store = try StateStore(database: database)
        registry = try EmbeddedRegistry(database: database)
        try FileSystem.makeDirectory(root + "/registry", intermediate: true)
        try TestRegistry.write(to: root + "/registry")
        try RegistryImporter.importDirectory(root + "/registry", into: registry)
        let capture = logged
        let log = EventLog(format: .text, sink: { capture.append($0) })
        let policy = ProcessingPolicy(maxRows: configuration.maxRows, maxAttempts: configuration.maxAttempts,
                                      backoff: Backoff(minimal: configuration.minimalBackoffTime,
                                                       maximal: configuration.maximalBackoffTime),
                                      jitter: { 0 })
        let clock = self.clock
        engine = try Engine(configuration: configuration, store: store, registry: registry, log: log, policy: policy,
                            clock: clock.wall)
        for tenant in ["acme", "voltaic"] { try addTenant(tenant) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    public func addTenant(_ id: String) throws {
        for d in [layout.incoming(id), layout.results(id), layout.claimDirectory(id), layout.refusedDirectory(id)] {
            try FileSystem.makeDirectory(d, intermediate: true)
        }
        try store.addTenant(id: id, name: id == "acme" ? "ACME Impianti S.r.l." : "Voltaic Integrazioni S.p.A.", now: clock.now)
    }

    // MARK: Dropping files

    /// Writes `bytes` as `incoming/name` of `tenant` and returns once nobody has it open for
    /// writing, as an SI's closed upload is.
    ///
    /// Why the wait: a child another test's thread spawns while the file is open here (a probe,
    /// psql) gets a copy of the descriptor until its `closefrom`/exec; on a loaded machine that
    /// copy outlived the write and the test's next scan saw a writer and took nothing (CI, stop
    /// 27: `aCancelOfAnUnknownOrAnotherSIsRequestGetsTheSameAnswer`). The wait is on the event the
    /// intake itself looks for, a read lease granted.
    @discardableResult
    public func drop(_ name: String, _ bytes: [UInt8], tenant: String = "acme") throws -> String {
        let path = layout.incoming(tenant) + "/" + name
        // Written aside and renamed in, a new file each time (as FileManager's atomic write did).
        dropped += 1
        let aside = layout.temporaryDirectory + "/drop-\(dropped)"
        let writer = try FileDescriptor.open(aside, .writeOnly, options: [.create, .truncate, .noFollow, .closeOnExec],
                                             permissions: 0o644)
        try writer.closeAfter { try $0.writeAll(bytes) }
        try FileSystem.rename(from: aside, to: path)
        let reader = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .nonBlocking, .closeOnExec])
        defer { try? reader.close() }
        let closed = waitUntil(timeout: 60, every: 0.001) {
            switch WriteLease.ask(on: reader) {
            case .noWriter(let lease):
                lease.release()
                return true
            case .writerOpen: return false
            case .unavailable: return true  // leases cannot tell here: the intake's settle time applies
            }
        }
        if !closed { Issue.record("\(path): still open for writing somewhere after 60 s") }
        return path
    }

    @discardableResult
    public func drop(_ name: String, text: String, tenant: String = "acme") throws -> String {
        try drop(name, Array(text.utf8), tenant: tenant)
    }

    /// A bulk file with the template's header, `;` and CRLF.
    public static func bulk(_ rows: [String], header: Bool = true) -> String {
        ((header ? ["POD;Identificativo MOME/Smart INFO;Tipo Configurazione"] : []) + rows).map { $0 + "\r\n" }.joined()
    }

    // MARK: Running

    /// `serve --once`: recovery, then passes until nothing more is due at the fake time.
    public func runUntilIdle() throws { try engine.runUntilIdle() }

    /// Drops `rows` as one file, runs the engine, returns the request.
    public func submit(_ name: String, rows: [String], tenant: String = "acme") throws -> RequestRecord {
        let before = Set(try store.requests(tenant: nil).map(\.id))
        try drop(name, text: Self.bulk(rows), tenant: tenant)
        try runUntilIdle()
        let new = try store.requests(tenant: nil).filter { !before.contains($0.id) }
        guard new.count == 1 else {
            Issue.record("expected one new request for \(name), got \(new.count)")
            throw POSIXError(.EIO)
        }
        return new[0]
    }

    public func request(_ id: RequestID) throws -> RequestRecord {
        guard let r = try store.request(id) else { throw POSIXError(.ENOENT) }
        return r
    }

    // MARK: Reading results

    public func resultFolder(_ r: RequestRecord) -> String { layout.resultFolder(r.tenant, r.id.description) }

    public func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// esito.csv as rows of named cells, plus its raw bytes and header.
    public func esito(_ r: RequestRecord) throws -> (header: [String], rows: [[String: String]], bytes: [UInt8]) {
        let bytes = try read(resultFolder(r) + "/esito.csv")
        let document = try CSVReader.read(bytes)
        guard let header = document.records.first?.cells else { return ([], [], bytes) }
        let rows = document.records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record.cells + Array(repeating: "", count: max(0, header.count - record.cells.count))))
        }
        return (header, rows, bytes)
    }

    public func stato(_ r: RequestRecord) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: resultFolder(r) + "/stato.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    public func scripts(_ r: RequestRecord) throws -> [String: ScpScript] {
        var out: [String: ScpScript] = [:]
        for entry in try ZipArchive.entries(at: resultFolder(r) + "/scp.zip") {
            out[entry.name] = try ScpScript.parse(entry.bytes)
        }
        return out
    }

    public func requestList(tenant: String = "acme") throws -> [[String]] {
        let bytes = try read(layout.results(tenant) + "/richieste.csv")
        return try CSVReader.read(bytes).records.map(\.cells)
    }

    public func list(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// Every path under `directory`, recursively, relative to it.
    public func walk(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    public func associationCount() throws -> Int {
        try database.queryOne("SELECT count(*) FROM associations", []) { $0.int(0) } ?? -1
    }
}
