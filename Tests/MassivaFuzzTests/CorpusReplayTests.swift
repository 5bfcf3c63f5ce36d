import Foundation
import MassivaFuzz
import Testing

/// The fuzz harness's seed corpus (`Tests/Fuzz/corpus/<target>/`), replayed through the same
/// entry points libFuzzer drives (`scripts/fuzz`): every input, including each case of issue 8,
/// must be refused or taken, never crash the test process. Bounded by the corpus, not by time.
/// Serialized: the registry target's scratch folder is one per process.
@Suite(.serialized) struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus").path

    @Test(arguments: FuzzTargets.names) func replay(target: String) throws {
        defer { FuzzTargets.removeScratch() }
        let directory = Self.corpus + "/" + target
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        // An empty or missing corpus would make this test pass by doing nothing.
        #expect(names.count >= 5, "corpus \(directory)")
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
            FuzzTargets.run(target, bytes)
        }
    }
}
