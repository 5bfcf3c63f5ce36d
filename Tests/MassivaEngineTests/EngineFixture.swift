import Dispatch
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
import MassivaTestSupport
import Synchronization

/// The lines an `EventLog` wrote.
final class LogCapture: Sendable {
    private let stored = Mutex<[String]>([])

    private let appended = DispatchSemaphore(value: 0)

    func append(_ line: String) {
        stored.withLock { $0.append(line) }
        appended.signal()
    }

    /// Waits until a line satisfies `predicate` (woken by each line logged, not polling); false
    /// after `timeout` seconds, a guard against a hang, not a speed target.
    func wait(timeout: Double = 120, for predicate: (String) -> Bool) -> Bool {
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout * 1000))
        while !lines.contains(where: predicate) {
            if appended.wait(timeout: deadline) == .timedOut { return lines.contains(where: predicate) }
        }
        return true
    }
    var lines: [String] { stored.withLock { $0 } }
    func events(_ name: String) -> [String] { lines.filter { $0 == name || $0.hasPrefix(name + " ") } }
}

/// The test registry: a handful of PODs and devices with a known role each, plus a bank of
/// plain reachable PODs and acme devices for bulk files.
enum TestRegistry {
    // Exchange PODs (M1).
    static let ok1 = "IT001E00000001"
    static let ok2 = "IT001E00000002"
    static let gesis = "IT001E00000003"          // matricola with N as 6th character
    static let ok4 = "IT001E00000004"
    static let ok5 = "IT001E00000005"
    static let ok6 = "IT001E00000006"
    static let prosumer = "IT001E00000010"       // three production PODs, listed out of order
    static let productions = ["IT001E00000013", "IT001E00000011B", "IT001E00000011A"]
    static let firstProduction = "IT001E00000011A"
    static let notTelemanaged = "IT001E00000020"
    static let notEligible = "IT001E00000021"
    static let neitherTelemanagedNorEligible = "IT001E00000022"
    static let unreachable = "IT001E00000030"
    static let flaky2 = "IT001E00000031"
    static let flaky1 = "IT001E00000032"
    static let unreachableNoProduction = "IT001E00000033"

    static let gesisMatricola = "00331N89987487"

    /// Plain reachable exchange POD number `i` of the bank (0..<400).
    static func bankPOD(_ i: Int) -> String { "IT001E" + String(10_000_000 + i) }
    /// acme's MOME number `i` of the bank (0..<400).
    static func bankSID(_ i: Int) -> String { "16MOMSPC3" + String(10_000_000 + i) }
    static let bankSize = 400

    // acme devices.
    static func mome(_ i: Int) -> String { "16MOMSPC3" + String(format: "%08d", i) }      // 1...20
    static func smartInfo(_ i: Int) -> String { "16SMISF81" + String(format: "%08d", i) } // 1...20
    // voltaic devices.
    static let voltaic1 = "16SMISF8100000100"
    static let voltaic2 = "16SMISF8100000101"

    /// 12 hex characters, unique per SID of this registry.
    static func nid(of sid: String) -> String {
        (sid.hasPrefix("16MOM") ? "DC26" : "DC27") + sid.suffix(8)
    }

    static func eneltel(of pod: String) -> String { String(100_000_000 + abs(pod.hashValueStable % 800_000_000)) }

    struct PODLine {
        var pod: String
        var matricola: String
        var meterType = "M1"
        var exchange = ""
        var telemanaged = true
        var eligible = true
        var reachability = "reachable"
    }

    static var podLines: [PODLine] {
        var lines: [PODLine] = [
            PODLine(pod: ok1, matricola: "00331E90291065"),
            PODLine(pod: ok2, matricola: "EMH4M744053835"),
            PODLine(pod: gesis, matricola: gesisMatricola),
            PODLine(pod: ok4, matricola: "ABC12327884854"),
            PODLine(pod: ok5, matricola: "ABC12327884855"),
            PODLine(pod: ok6, matricola: "ABC12327884856"),
            PODLine(pod: prosumer, matricola: "ABC12327880010"),
            PODLine(pod: notTelemanaged, matricola: "ABC12327880020", telemanaged: false),
            PODLine(pod: notEligible, matricola: "ABC12327880021", eligible: false),
            PODLine(pod: neitherTelemanagedNorEligible, matricola: "ABC12327880022", telemanaged: false, eligible: false),
            PODLine(pod: unreachable, matricola: "ABC12327880030", reachability: "unreachable"),
            PODLine(pod: flaky2, matricola: "ABC12327880031", reachability: "flaky:2"),
            PODLine(pod: flaky1, matricola: "ABC12327880032", reachability: "flaky:1"),
            PODLine(pod: unreachableNoProduction, matricola: "ABC12327880033", reachability: "unreachable"),
        ]
        for p in productions {
            lines.append(PODLine(pod: p, matricola: "PRD" + p.suffix(9), meterType: "M2", exchange: prosumer))
        }
        for i in 0..<bankSize { lines.append(PODLine(pod: bankPOD(i), matricola: "BNK" + String(10_000_000_000 + i))) }
        return lines
    }

    static var deviceLines: [(sid: String, type: String, owner: String)] {
        var lines: [(String, String, String)] = []
        for i in 1...20 { lines.append((mome(i), "MOME", "acme")) }
        for i in 1...20 { lines.append((smartInfo(i), "Smart Info", "acme")) }
        lines.append((voltaic1, "Smart Info", "voltaic"))
        lines.append((voltaic2, "Smart Info", "voltaic"))
        for i in 0..<bankSize { lines.append((bankSID(i), "MOME", "acme")) }
        return lines
    }

    /// Writes pods.csv and devices.csv into `directory`.
    static func write(to directory: String) throws {
        var pods = RegistryImporter.podColumns.joined(separator: ",") + "\n"
        for p in podLines {
            pods += [p.pod, eneltel(of: p.pod), p.matricola, p.meterType, p.exchange, String(p.telemanaged), String(p.eligible),
                     p.reachability, "RSSMRA80A01H501U"].joined(separator: ",") + "\n"
        }
        var devices = RegistryImporter.deviceColumns.joined(separator: ",") + "\n"
        for d in deviceLines { devices += [d.sid, nid(of: d.sid), d.type, d.owner].joined(separator: ",") + "\n" }
        try pods.write(toFile: directory + "/pods.csv", atomically: false, encoding: .utf8)
        try devices.write(toFile: directory + "/devices.csv", atomically: false, encoding: .utf8)
    }

    static func line(pod: String) -> PODLine? { podLines.first { $0.pod == pod } }
    static func deviceType(of sid: String) -> String? { deviceLines.first { $0.sid == sid }?.type }
}

extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
    /// A hash that does not change between runs (Swift's `hashValue` is seeded).
    var hashValueStable: Int {
        var h: UInt64 = 1469598103934665603
        for b in utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return Int(h % 1_000_000_007)
    }
}

/// One engine on its own temporary spool, with a fake clock, jitter 0 and a captured log.
final class EngineFixture {
    let root: String
    let layout: SpoolLayout
    let clock: FakeClock
    let configuration: Configuration
    let database: Database
    let store: StateStore
    let registry: EmbeddedRegistry
    let logged = LogCapture()
    let engine: Engine

    /// - Parameter change: adjusts `Configuration.defaults` (spool, settle time 0 already set).
    init(_ change: (inout Configuration) -> Void = { _ in }) throws {
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
        database = try Database(path: layout.databasePath)
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

    func addTenant(_ id: String) throws {
        for d in [layout.incoming(id), layout.results(id), layout.claimDirectory(id), layout.refusedDirectory(id)] {
            try FileSystem.makeDirectory(d, intermediate: true)
        }
        try store.addTenant(id: id, name: id == "acme" ? "ACME Impianti S.r.l." : "Voltaic Integrazioni S.p.A.", now: clock.now)
    }

    // MARK: Dropping files

    @discardableResult
    func drop(_ name: String, _ bytes: [UInt8], tenant: String = "acme") throws -> String {
        let path = layout.incoming(tenant) + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw POSIXError(.EIO) }
        return path
    }

    @discardableResult
    func drop(_ name: String, text: String, tenant: String = "acme") throws -> String {
        try drop(name, Array(text.utf8), tenant: tenant)
    }

    /// A bulk file with the template's header, `;` and CRLF.
    static func bulk(_ rows: [String], header: Bool = true) -> String {
        ((header ? ["POD;Identificativo MOME/Smart INFO;Tipo Configurazione"] : []) + rows).map { $0 + "\r\n" }.joined()
    }

    // MARK: Running

    /// `serve --once`: recovery, then passes until nothing more is due at the fake time.
    func runUntilIdle() throws { try engine.runUntilIdle() }

    /// Drops `rows` as one file, runs the engine, returns the request.
    func submit(_ name: String, rows: [String], tenant: String = "acme") throws -> RequestRecord {
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

    func request(_ id: RequestID) throws -> RequestRecord {
        guard let r = try store.request(id) else { throw POSIXError(.ENOENT) }
        return r
    }

    // MARK: Reading results

    func resultFolder(_ r: RequestRecord) -> String { layout.resultFolder(r.tenant, r.id.description) }

    func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// esito.csv as rows of named cells, plus its raw bytes and header.
    func esito(_ r: RequestRecord) throws -> (header: [String], rows: [[String: String]], bytes: [UInt8]) {
        let bytes = try read(resultFolder(r) + "/esito.csv")
        let document = try CSVReader.read(bytes)
        guard let header = document.records.first?.cells else { return ([], [], bytes) }
        let rows = document.records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record.cells + Array(repeating: "", count: max(0, header.count - record.cells.count))))
        }
        return (header, rows, bytes)
    }

    func stato(_ r: RequestRecord) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: resultFolder(r) + "/stato.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func scripts(_ r: RequestRecord) throws -> [String: ScpScript] {
        var out: [String: ScpScript] = [:]
        for entry in try ZipArchive.entries(at: resultFolder(r) + "/scp.zip") {
            out[entry.name] = try ScpScript.parse(entry.bytes)
        }
        return out
    }

    func requestList(tenant: String = "acme") throws -> [[String]] {
        let bytes = try read(layout.results(tenant) + "/richieste.csv")
        return try CSVReader.read(bytes).records.map(\.cells)
    }

    func list(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    /// Every path under `directory`, recursively, relative to it.
    func walk(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    func associationCount() throws -> Int {
        try database.queryOne("SELECT count(*) FROM associations", []) { $0.int(0) } ?? -1
    }
}

/// NSTemporaryDirectory() without its trailing slash.
func temporaryRoot() -> String {
    var t = NSTemporaryDirectory()
    while t.count > 1 && t.hasSuffix("/") { t.removeLast() }
    return t
}
