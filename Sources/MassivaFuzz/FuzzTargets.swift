import MassivaCLI
import MassivaConfig
import MassivaDomain
import MassivaRegistry
import MassivaSpool
import MassivaSystem

/// The entry points of the fuzz harness (`scripts/fuzz`, libFuzzer) and of its corpus replay in
/// the test suite: each takes any bytes and must return, whatever they are, without crashing
/// (a trap, a precondition, an overflow) or hanging. What they return is not checked here: the
/// point is that hostile input can only ever be refused.
public enum FuzzTargets {
    public static let names = ["csv", "config", "registry", "cli"]

    /// Runs target `name` on `bytes`.
    public static func run(_ name: String, _ bytes: [UInt8]) {
        switch name {
        case "csv": csv(bytes)
        case "config": config(bytes)
        case "registry": registry(bytes)
        case "cli": commandLine(bytes)
        default: preconditionFailure("unknown fuzz target \(name)")
        }
    }

    /// A bulk upload, as the engine reads it (`BulkFile`, `RequestFile`), then row checks 1-5
    /// as `validate` and the engine make them.
    static func csv(_ bytes: [UInt8]) {
        guard let collector = try? BulkFile.read(bytes, maxRows: 1_000), let rows = try? collector.finish() else { return }
        var validator = RowValidator()
        for row in rows { _ = validator.check(row) }
        _ = BulkFile.dataRowCount(bytes, maxRows: 1_000)
    }

    /// A configuration file's text (any bytes, decoded as the loader does), with its values'
    /// derived forms (`config` prints every line).
    static func config(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let configuration = try? Configuration.parse(text, source: "fuzz.cf", relativeTo: "/fuzz") else { return }
        _ = configuration.lines(onlyNonDefault: false)
        _ = configuration.lines(onlyNonDefault: true)
    }

    /// `registry import` of a pods.csv and a devices.csv (the input split at its first NUL
    /// byte), into a target that stores nothing: every line check runs, nothing is written.
    static func registry(_ bytes: [UInt8]) {
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        let directory = scratchDirectory()
        do {
            try AtomicFile.write(bytes[..<split], to: directory + "/pods.csv", temporaryDirectory: directory, durable: false)
            try AtomicFile.write(bytes[split...].dropFirst(), to: directory + "/devices.csv", temporaryDirectory: directory, durable: false)
        } catch {
            preconditionFailure("cannot write the fuzz registry files in \(directory): \(error)")
        }
        _ = try? RegistryImporter.importDirectory(directory, into: NullImportTarget()) { _ in }
    }

    /// A command line (NUL- or newline-separated words) against every command's declaration,
    /// and the `--help` texts. Only parsing: no command runs.
    static func commandLine(_ bytes: [UInt8]) {
        let words = bytes.split(whereSeparator: { $0 == 0 || $0 == 0x0A }).map { String(decoding: $0, as: UTF8.self) }
        for command in MassivaCommandLine.commands {
            // As `main` does for the command the words name, and the whole line for every other.
            let path = command.declaration.path
            let arguments = Array(words.prefix(path.count)) == path ? Array(words.dropFirst(path.count)) : words
            _ = command.declaration.helpText(commandPath: "massiva " + path.joined(separator: " "), globalOptions: [.config])
            if let parsed = try? command.declaration.parse(arguments, globalOptions: [.config]) {
                _ = parsed.positionals
                // Only what the command declares: asking for anything else traps by design.
                for option in command.declaration.options { _ = parsed.value(option.name) }
                for flag in command.declaration.flags { _ = parsed.flag(flag.name) }
            }
        }
    }

    /// A folder of this process's own for the registry target's files (one per process: the
    /// fuzzer runs inputs one at a time). `removeScratch` removes it.
    nonisolated(unsafe) private static var scratch: String?
    static func scratchDirectory() -> String {
        if let scratch { return scratch }
        // scripts/fuzz names one under .build (and removes it); the replay uses /tmp.
        let path = CurrentProcess.environment["MASSIVA_FUZZ_SCRATCH"] ?? "/tmp/massiva-fuzz-\(CurrentProcess.id)"
        do { try FileSystem.makeDirectory(path, mode: 0o700, intermediate: true) } catch {
            preconditionFailure("cannot make \(path): \(error)")
        }
        scratch = path
        return path
    }

    /// Removes the registry target's folder, if it was made.
    public static func removeScratch() {
        guard let scratch else { return }
        for name in (try? FileSystem.listDirectory(scratch)) ?? [] { try? FileSystem.unlink(scratch + "/" + name) }
        try? FileSystem.removeDirectory(scratch)
        Self.scratch = nil
    }
}

/// An import target that keeps nothing: the importer's own checks are what is fuzzed.
final class NullImportTarget: RegistryImportTarget {
    func beginImport() throws {}
    func stage(pods: [ImportedPOD]) throws -> [ImportDuplicate] { [] }
    func stage(devices: [ImportedDevice]) throws -> [ImportDuplicate] { [] }
    func eachOrphanProductionPOD(_ body: (_ line: Int, _ exchangePOD: String) throws -> Void) throws {}
    func commitImport() throws -> RegistryImportCounts { RegistryImportCounts() }
    func endImport() {}
}
