import Foundation
import MassivaCLI
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaResults
import MassivaStore
import MassivaRegistry
import MassivaServices
import MassivaSpool
import MassivaSystem
import MassivaTestSupport

/// A spool in a fresh temporary directory with a configuration file, three tenants and a small
/// registry in real SQLite. Each test makes its own.
final class Fixture {
    let root: String
    let configPath: String
    let layout: SpoolLayout
    let store: StateStore
    let registry: EmbeddedRegistry
    /// The time of the services and of the commands `run` runs: 2026-01-01T12:00:00Z until a
    /// test moves it.
    let clock = FakeClock(1_767_268_800)

    // Tenants
    static let acme = "acme", beta = "beta", gamma = "gamma"   // gamma is disabled
    // PODs
    static let standard = "IT001E00000001"       // plain, reachable
    static let prosumer = "IT001E00000002"       // GESIS meter, two production PODs
    static let productionA = "IT001E00000011"
    static let productionB = "IT001E00000012"
    static let notTelemanaged = "IT001E00000003"
    static let notEligible = "IT001E00000004"
    static let unreachable = "IT001E00000005"
    static let flaky = "IT001E00000006"          // first probe fails
    static let other = "IT001E00000007"          // plain, reachable
    static let unknown = "IT001E99999998"
    // Devices
    static let sid1 = "16SMISF8100000001", sid2 = "16SMISF8100000002", sid3 = "16MOMSPC300000003", sid4 = "16SMISF8100000004"
    static let betaSID = "16SMISF8100000009"
    static let nid1 = "DC2620000001"

    init() throws {
        root = NSTemporaryDirectory() + "massiva-services-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        configPath = root + "/massiva.cf"
        try "spool_directory = \(root)/spool\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        layout = SpoolLayout(root: root + "/spool")
        for directory in [layout.tenantsDirectory, layout.privateDirectory, layout.temporaryDirectory] {
            try FileSystem.makeDirectory(directory, intermediate: true)
        }
        let database = try Database(path: layout.databasePath)
        store = try StateStore(database: database)
        registry = try EmbeddedRegistry(database: database)
        for (id, name) in [(Self.acme, "ACME Impianti S.r.l."), (Self.beta, "Beta Energia S.p.A."), (Self.gamma, "Gamma S.n.c.")] {
            try store.addTenant(id: id, name: name, now: 0)
            for d in [layout.incoming(id), layout.results(id)] { try FileSystem.makeDirectory(d, intermediate: true) }
        }
        _ = try store.setTenant(Self.gamma, enabled: false)
        let dir = root + "/registry"
        try FileSystem.makeDirectory(dir)
        try """
        pod,eneltel,matricola,meter_type,exchange_pod,telemanaged,eligible,reachability,holder_tax_code
        \(Self.standard),100000001,ABCDE00001,M1,,true,true,reachable,RSSMRA80A01H501U
        \(Self.prosumer),100000002,ABCDEN0002,M1,,true,true,reachable,01234567890
        \(Self.productionB),100000012,ABCDE00012,M2,\(Self.prosumer),true,true,reachable,01234567890
        \(Self.productionA),100000011,ABCDE00011,M2,\(Self.prosumer),true,true,reachable,01234567890
        \(Self.notTelemanaged),100000003,ABCDE00003,M1,,false,true,reachable,BNCGPP60C03L219Z
        \(Self.notEligible),100000004,ABCDE00004,M1,,true,false,reachable,BNCGPP60C03L219Z
        \(Self.unreachable),100000005,ABCDE00005,M1,,true,true,unreachable,BNCGPP60C03L219Z
        \(Self.flaky),100000006,ABCDE00006,M1,,true,true,flaky:1,BNCGPP60C03L219Z
        \(Self.other),100000007,ABCDE00007,M1,,true,true,reachable,FRRLRA90D44A944K

        """.write(toFile: dir + "/pods.csv", atomically: true, encoding: .utf8)
        try """
        sid,nid,device_type,owner
        \(Self.sid1),\(Self.nid1),Smart Info,acme
        \(Self.sid2),DC2620000002,Smart Info,acme
        \(Self.sid3),DC2620000003,MOME,acme
        \(Self.sid4),DC2620000004,Smart Info,acme
        \(Self.betaSID),DC2620000009,Smart Info,beta

        """.write(toFile: dir + "/devices.csv", atomically: true, encoding: .utf8)
        try RegistryImporter.importDirectory(dir, into: registry)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The services on this spool, on the fixture's clock unless `clock` is given.
    func services(registry: (any Registry)? = nil, clock: (@Sendable () -> Double)? = nil) -> AssociationServices {
        let clock = clock ?? self.clock.wall
        return AssociationServices(store: store, registry: registry ?? self.registry,
                                   results: ResultWriter(layout: layout, store: store, files: ResultFiles(), clock: clock), clock: clock)
    }

    /// A directory for SCP files.
    func outDirectory(_ name: String = "out") throws -> String {
        let path = root + "/" + name
        if !FileSystem.exists(path) { try FileSystem.makeDirectory(path) }
        return path
    }

    /// Runs `massiva <arguments>` in-process against this spool: status, stdout, stderr.
    func run(_ arguments: String...) -> (status: Int32, out: String, err: String, bytes: [UInt8]) {
        let capture = OutputCapture()
        let status = Output.$capture.withValue(capture) {
            MassivaCommandLine.main(["massiva"] + arguments, environment: ["MASSIVA_CONFIG": configPath], clock: clock.clock)
        }
        return (status, capture.outputText, capture.errorText, capture.standardOutput)
    }

    func readFile(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    var associationCount: Int { (try? registry.associations(tenant: nil).count) ?? -1 }

    func auditEntries() throws -> [AuditEntry] { try AuditTrail(database: store.database).entries() }
}

/// A registry test double for OUTAGES ONLY: forwards to the real embedded registry, except that
/// `pod(_:)` fails with the given error (a down or broken back end).
final class OutageRegistryDouble: Registry {
    let real: any Registry
    let error: any Error

    init(_ real: any Registry, failingWith error: any Error) {
        self.real = real
        self.error = error
    }

    func pod(_ code: String) throws -> PODRecord? { throw error }
    func device(_ sid: String) throws -> DeviceRecord? { try real.device(sid) }
    func device(nid: String) throws -> DeviceRecord? { try real.device(nid: nid) }
    func probeReachability(pod: String) throws -> Bool { try real.probeReachability(pod: pod) }
    func association(pod: String) throws -> Association? { try real.association(pod: pod) }
    func association(sid: String) throws -> Association? { try real.association(sid: sid) }
    func association(productionPOD pod: String) throws -> Association? { try real.association(productionPOD: pod) }
    func createAssociation(_ association: Association) throws { try real.createAssociation(association) }
    func deleteAssociation(pod: String) throws { try real.deleteAssociation(pod: pod) }
    func eachAssociation(tenant: String?, _ body: (ListedAssociation) throws -> Void) throws {
        try real.eachAssociation(tenant: tenant, body)
    }
    func eachAssociation(tenant: String, after: (createdAt: Double, pod: String), _ body: (ListedAssociation) throws -> Void) throws {
        try real.eachAssociation(tenant: tenant, after: after, body)
    }
    func associationCount(tenant: String) throws -> Int { try real.associationCount(tenant: tenant) }
}

struct SomeBackendFault: Error {}

/// UTF-8 BOM + `;` + CRLF, split into rows of cells (no quoting in these fixtures).
func csvRows(_ bytes: [UInt8]) -> [[String]] {
    var text = String(decoding: bytes, as: UTF8.self)
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    return text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.map { $0.components(separatedBy: ";") }
}
