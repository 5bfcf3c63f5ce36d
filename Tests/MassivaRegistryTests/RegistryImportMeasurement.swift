import Foundation
import Glibc
import Testing
import MassivaDatabase
import MassivaRegistry
import MassivaStore
import MassivaTestSupport

/// The time of a store-level registry import of `MASSIVA_IMPORT_MEASURE` (a folder with
/// pods.csv and devices.csv, e.g. from scripts/generate-large-registry) on the engine of
/// `MASSIVA_TEST_DATABASE` (SQLite in a temporary folder, or a new database of the test
/// cluster): a first import, then a re-import of the same files (the difference is empty).
/// A measurement, not a check: skipped unless asked for; run it on a release build
/// (`swift test -c release --filter RegistryImportMeasurement`).
@Suite struct RegistryImportMeasurement {
    @Test(.enabled(if: getenv("MASSIVA_IMPORT_MEASURE") != nil))
    func importTime() throws {
        let registry = String(cString: getenv("MASSIVA_IMPORT_MEASURE"))
        let directory = try TemporaryDirectory()
        let database = try Schema.open(try TestDatabase.location(embeddedPath: directory.path + "/massiva.db"))
        let embedded = try EmbeddedRegistry(database: database)
        let clock = ContinuousClock()
        var counts = RegistryImportCounts()
        let timed = Timed(embedded)
        let first = try clock.measure { counts = try RegistryImporter.importDirectory(registry, into: timed) }
        let firstParts = timed.parts
        timed.parts = [:]
        var again = RegistryImportCounts()
        let second = try clock.measure { again = try RegistryImporter.importDirectory(registry, into: timed) }
        #expect(again.added == 0 && again.changed == 0 && again.removed == 0)
        print("registry import on \(TestDatabase.engine): \(counts.pods) PODs, \(counts.devices) devices: first \(first) \(firstParts), again \(second) \(timed.parts)")
    }

    /// The target, with the time spent in its staging and in its commit.
    final class Timed: RegistryImportTarget {
        let target: EmbeddedRegistry
        var parts: [String: Duration] = [:]
        let clock = ContinuousClock()
        init(_ target: EmbeddedRegistry) { self.target = target }
        func timed<T>(_ part: String, _ body: () throws -> T) rethrows -> T {
            let start = clock.now
            defer { parts[part, default: .zero] += clock.now - start }
            return try body()
        }
        func beginImport() throws { try timed("begin") { try target.beginImport() } }
        func stage(pods: [ImportedPOD]) throws -> [ImportDuplicate] { try timed("stage") { try target.stage(pods: pods) } }
        func stage(devices: [ImportedDevice]) throws -> [ImportDuplicate] { try timed("stage") { try target.stage(devices: devices) } }
        func eachOrphanProductionPOD(_ body: (Int, String) throws -> Void) throws { try timed("orphans") { try target.eachOrphanProductionPOD(body) } }
        func commitImport() throws -> RegistryImportCounts { try timed("commit") { try target.commitImport() } }
        func endImport() { timed("end") { target.endImport() } }
    }
}
