import Foundation
import Glibc
import Testing
import MassivaCSV
import MassivaTestSupport

/// The package root.
let packageRoot = BuiltProgram.packageRoot
/// The built binary under test.
let massivaBinary = BuiltProgram.massiva
let samplesDirectory = packageRoot + "/samples"

/// What a finished run of the binary said.
typealias RunResult = ProcessRun

/// A temporary spool with its configuration file, driven through the binary.
final class Spool {
    let root: String
    let spool: String
    let configPath: String
    /// The spool's database: the embedded file, or a PostgreSQL database of the test cluster
    /// when `MASSIVA_TEST_DATABASE=postgresql` (its line is in massiva.cf).
    let spoolDatabase: SpoolDatabase

    /// `embedded`: on the embedded SQLite file whatever engine the suites run on (`database copy`
    /// copies it).
    init(extraConfig: String = "", embedded: Bool = false) throws {
        guard access(massivaBinary, X_OK) == 0 else {
            Issue.record("the binary \(massivaBinary) is not built (swift build)")
            throw POSIXError(.ENOENT)
        }
        var template = Array((temporaryRoot() + "/massiva-e2e-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        spool = root + "/spool"
        configPath = root + "/massiva.cf"
        do {
            spoolDatabase = try embedded ? TestDatabase.embeddedSpoolDatabase(spool: spool) : TestDatabase.spoolDatabase(spool: spool)
        } catch {
            // Thrown before every property is set: deinit will not run to remove the folder.
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
        let config = """
        # end-to-end test spool
        spool_directory = \(spool)
        settle_time = 0s
        minimal_backoff_time = 1s
        maximal_backoff_time = 2s
        \(extraConfig)
        """
        try spoolDatabase.appended(to: config).write(toFile: configPath, atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    private var outputSequence = 0

    /// Starts `massiva ARGS` with the configuration in MASSIVA_CONFIG; output goes to files.
    func start(_ arguments: [String], environment extra: [String: String] = [:], useEnvironment: Bool = true,
               binary: String = massivaBinary) throws -> (process: SpawnedProcess, stdout: String, stderr: String) {
        outputSequence += 1
        let out = root + "/out-\(outputSequence).txt", err = root + "/err-\(outputSequence).txt"
        var environment = useEnvironment ? ["MASSIVA_CONFIG": configPath] : [:]
        for (k, v) in extra { environment[k] = v }
        let process = try SpawnedProcess([binary] + (binary == massivaBinary ? arguments : Array(arguments.dropFirst())),
                                         environment: environment, directory: root,
                                         standardOutput: .file(out), standardError: .file(err))
        return (process, out, err)
    }

    func finish(_ started: (process: SpawnedProcess, stdout: String, stderr: String)) -> RunResult {
        started.process.finish(timeout: 600)
    }

    /// Starts `massiva ARGS` with its wall clock a day ahead (`faketime -f +1d`; the monotonic
    /// clock is the kernel's, and files' times are read as they are, so what was written before
    /// looks a day old): a later time without the test waiting for it.
    func startADayAhead(_ arguments: [String]) throws -> (process: SpawnedProcess, stdout: String, stderr: String) {
        try start(["faketime", "-f", "+1d", massivaBinary] + arguments,
                  environment: ["FAKETIME_DONT_FAKE_MONOTONIC": "1", "NO_FAKE_STAT": "1"], binary: "/usr/bin/faketime")
    }

    /// Runs `massiva ARGS` a day ahead (see `startADayAhead`).
    @discardableResult
    func runADayAhead(_ arguments: [String]) throws -> RunResult { finish(try startADayAhead(arguments)) }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:], useEnvironment: Bool = true,
             binary: String = massivaBinary) throws -> RunResult {
        finish(try start(arguments, environment: environment, useEnvironment: useEnvironment, binary: binary))
    }

    /// Runs and expects exit status 0.
    @discardableResult
    func ok(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try run(arguments)
        #expect(r.status == 0, "massiva \(arguments.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    func setUpSamples() throws {
        try ok(["registry", "import", samplesDirectory + "/registry"])
        try ok(["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."])
        try ok(["tenant", "add", "voltaic", "--name", "Voltaic Integrazioni S.p.A."])
    }

    // MARK: Paths

    /// The database as massiva names it in its messages: the file's path (private/massiva.db),
    /// or the URI on PostgreSQL.
    var database: String { spoolDatabase.name }
    func incoming(_ tenant: String) -> String { spool + "/tenants/\(tenant)/incoming" }
    func results(_ tenant: String) -> String { spool + "/tenants/\(tenant)/results" }
    func claim(_ tenant: String) -> String { spool + "/private/claim/\(tenant)" }

    func copySample(_ name: String, to tenant: String) throws {
        try FileManager.default.copyItem(atPath: samplesDirectory + "/requests/" + name, toPath: incoming(tenant) + "/" + name)
    }

    func list(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    func walk(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    // MARK: Reading state

    /// Runs a query with the engine's shell (sqlite3 or psql); one array of cells per line.
    func sql(_ query: String) throws -> [[String]] { try spoolDatabase.rows(query) }

    func sqlInt(_ query: String) throws -> Int { Int(try sql(query).first?.first ?? "") ?? -1 }

    /// The request id of the (only) request made from `fileName` of `tenant`, from richieste.csv.
    func requestIDs(tenant: String, file fileName: String) throws -> [String] {
        try requestList(tenant).filter { $0[1] == fileName }.map { $0[0] }
    }

    /// richieste.csv without its header.
    func requestList(_ tenant: String) throws -> [[String]] {
        let path = results(tenant) + "/richieste.csv"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return Array(try CSVReader.read(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).records.dropFirst().map(\.cells))
    }

    func stato(tenant: String, id: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: results(tenant) + "/\(id)/stato.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func esito(tenant: String, id: String) throws -> [[String: String]] {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: results(tenant) + "/\(id)/esito.csv")))
        let records = try CSVReader.read(bytes).records
        guard let header = records.first?.cells else { return [] }
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.cells)) }
    }

    /// Number of entries of a zip file, from its end-of-central-directory record.
    func zipEntryCount(_ path: String) throws -> Int {
        let b = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        guard b.count >= 22 else { return -1 }
        var i = b.count - 22
        while i >= 0 {
            if b[i] == 0x50 && b[i + 1] == 0x4B && b[i + 2] == 0x05 && b[i + 3] == 0x06 {
                return Int(b[i + 10]) | Int(b[i + 11]) << 8
            }
            i -= 1
        }
        return -1
    }

    /// `serve --once` until `done()` or the deadline (retries are due on the wall clock).
    func serveUntil(timeout: Double = 60, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try run(["serve", "--once"])
            #expect(r.status == 0, "serve --once: \(r.stderr)")
            if try done() { return }
            if Date() > deadline {
                Issue.record("serve --once did not get there within \(timeout) s")
                return
            }
            usleep(100_000)  // between polls: retries fall due on the wall clock
        }
    }
}

/// The expectations of samples/requests/README.md: one table per sample file.
struct SampleExpectations {
    struct Row {
        var line: Int
        var pod: String
        var esito: String
        var code: String
        var attempts: Int
        var productionPOD: String?
        var gesis: Bool
    }
    struct File {
        var name: String
        var rows: [Row] = []
        var outcome = ""
        var progress = ""
        var errors = -1
        var scripts = -1
    }
    var files: [String: File] = [:]

    static func load() throws -> SampleExpectations {
        let text = try String(contentsOfFile: samplesDirectory + "/requests/README.md", encoding: .utf8)
        var result = SampleExpectations()
        var current: File?
        var outcomeParagraph: String?
        func close() {
            if var file = current {
                if let p = outcomeParagraph { parseOutcome(p, into: &file) }
                result.files[file.name] = file
            }
            current = nil
            outcomeParagraph = nil
        }
        for raw in text.components(separatedBy: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("## ") {
                close()
                if let open = line.firstIndex(of: "`"), let close = line[line.index(after: open)...].firstIndex(of: "`") {
                    current = File(name: String(line[line.index(after: open)..<close]))
                }
                continue
            }
            guard current != nil else { continue }
            if line.hasPrefix("Expected request outcome:") { outcomeParagraph = line; continue }
            if let p = outcomeParagraph, !p.contains("SCP") { outcomeParagraph = p + " " + line; continue }
            guard line.hasPrefix("|") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 8, let number = Int(cells[0]) else { continue }
            if cells[1].hasPrefix("*(blank line") { continue }
            let pod = cells[1].hasPrefix("*(") ? "" : cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`")).trimmingCharacters(in: .whitespaces)
            let notes = cells[7]
            var production: String?
            if let range = notes.range(of: "production POD ") {
                production = String(notes[range.upperBound...].prefix { $0.isLetter || $0.isNumber })
            }
            current!.rows.append(Row(line: number, pod: pod.uppercased(), esito: cells[4], code: cells[5], attempts: Int(cells[6]) ?? -1,
                                     productionPOD: production, gesis: notes.contains("GESIS=SI")))
        }
        close()
        return result
    }

    static func parseOutcome(_ p: String, into file: inout File) {
        let parts = p.components(separatedBy: "**")
        if parts.count >= 3 { file.outcome = parts[1] }
        let ticks = p.components(separatedBy: "`")
        if ticks.count >= 3 { file.progress = ticks[1] }
        func number(before word: String) -> Int {
            guard let r = p.range(of: " " + word) else { return -1 }
            let head = p[..<r.lowerBound]
            return Int(String(head.reversed().prefix { $0.isNumber }.reversed())) ?? -1
        }
        file.errors = number(before: "errors")
        file.scripts = number(before: "SCP")
    }
}

/// The sqlite3 CLI on any database file (a test reads or damages stored state with it); one
/// array of cells per line.
func sqlite(_ database: String, _ query: String) throws -> [[String]] {
    let result = try SpawnedProcess.run(["/usr/bin/sqlite3", "-separator", "|", database, query])
    #expect(result.status == 0, "sqlite3 \(database) \(query)")
    return result.stdout.split(separator: "\n")
        .map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
}
