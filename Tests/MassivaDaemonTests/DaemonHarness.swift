import Foundation
import Glibc
import MassivaSystem
import MassivaTestSupport

/// A temporary spool with the sample registry and two tenants, and the built `massiva` binary
/// run against it as a real process.
final class DaemonHarness {
    static let packageRoot = BuiltProgram.packageRoot
    static let binary = BuiltProgram.massiva

    let root: String
    var spool: String { root + "/spool" }
    var configPath: String { root + "/massiva.cf" }
    var logPath: String { root + "/daemon.log" }
    /// The spool's database: the embedded file, or a PostgreSQL database of the test cluster
    /// when `MASSIVA_TEST_DATABASE=postgresql` (its line is in massiva.cf).
    let database: SpoolDatabase

    /// - Parameter database: the spool's database when the test brings its own (a
    ///   `PostgresPair`'s); the suites' engine's otherwise (`TestDatabase.spoolDatabase`).
    init(settleTime: String = "0s", rescanInterval: String = "1h", extra: String = "", database: SpoolDatabase? = nil) throws {
        var template = Array((NSTemporaryDirectory() + "massiva-daemon-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        do {
            self.database = try database ?? TestDatabase.spoolDatabase(spool: root + "/spool")
        } catch {
            // Thrown before every property is set: deinit will not run to remove the folder.
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
        try self.database.appended(to: """
        spool_directory = \(root)/spool
        settle_time = \(settleTime)
        rescan_interval = \(rescanInterval)
        minimal_backoff_time = 1s
        maximal_backoff_time = 2s
        \(extra)
        """).write(toFile: configPath, atomically: true, encoding: .utf8)
        try check(["registry", "import", Self.packageRoot + "/samples/registry"])
        try check(["tenant", "add", "acme", "--name", "ACME Impianti S.r.l."])
        try check(["tenant", "add", "voltaic", "--name", "Voltaic Integrazioni S.p.A."])
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func incoming(_ tenant: String) -> String { spool + "/tenants/\(tenant)/incoming" }
    func results(_ tenant: String) -> String { spool + "/tenants/\(tenant)/results" }

    /// Runs a command to completion: (status, stdout).
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let result = try SpawnedProcess.run([Self.binary] + arguments,
                                            environment: ["MASSIVA_CONFIG": configPath].merging(environment) { $1 })
        return (result.status, result.stdout)
    }

    func check(_ arguments: [String]) throws {
        let result = try run(arguments)
        guard result.status == 0 else { throw HarnessError("massiva \(arguments.joined(separator: " ")) exited \(result.status)") }
    }

    /// Starts `massiva serve` in the background, its stderr appended to `logPath`.
    func startDaemon(environment: [String: String] = [:]) throws -> SpawnedProcess {
        try SpawnedProcess([Self.binary, "serve"], environment: ["MASSIVA_CONFIG": configPath].merging(environment) { $1 },
                           standardOutput: .discard, standardError: .appending(logPath))
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Checks `condition` every 20 ms until it holds, for up to `seconds`.
    @discardableResult
    func waitUntil(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        try MassivaTestSupport.waitUntil(timeout: seconds, every: 0.02, condition)
    }

    /// Drops `content` into a tenant's incoming folder the way an SFTP client should: written
    /// under a temporary name, then renamed.
    func drop(_ content: String, as name: String, tenant: String = "acme") throws {
        let partial = incoming(tenant) + "/.\(name).part"
        try content.write(toFile: partial, atomically: false, encoding: .utf8)
        guard rename(partial, incoming(tenant) + "/" + name) == 0 else { throw POSIXError(.EIO) }
    }

    func stato(_ tenant: String, _ request: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: results(tenant) + "/\(request)/stato.json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// One SQL answer from the spool's database (its lines, cells separated by `|`) through
    /// the engine's shell (sqlite3 or psql), or nil when it failed.
    func sql(_ query: String) -> String? { try? database.text(query) }
}

/// A probe program (`probe_command`) held at a gate: in `folder`, it touches `asked` when it
/// runs, then waits until the test makes `open` (at most `seconds`), then says the meter answers.
/// Returns its path.
func gatedProbe(in folder: String, seconds: Int) throws -> String {
    let probe = folder + "/probe"
    try """
        #!/bin/sh
        dir=$(dirname "$0")
        touch "$dir/asked"
        i=0
        while [ ! -e "$dir/open" ] && [ $i -lt \(seconds * 20) ]; do sleep 0.05; i=$((i+1)); done
        exit 0
        """.write(toFile: probe, atomically: false, encoding: .utf8)
    chmod(probe, 0o755)
    return probe
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Sample rows: acme owns MOME SIDs 16MOMSPC3000000{01...40}; PODs IT001E000000{01...} are plain
/// reachable exchange PODs (see samples/requests/README.md).
enum SampleRows {
    static func clean(count: Int, firstPOD: Int = 1, firstSID: Int = 1) -> String {
        var lines = ["POD;Identificativo MOME/Smart INFO;Tipo Configurazione"]
        for i in 0..<count {
            lines.append(String(format: "IT001E%08d;16MOMSPC3%08d;Standard", firstPOD + i, firstSID + i))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
