import Foundation
import Glibc
import MassivaSystem

/// A temporary spool with the sample registry and two tenants, and the built `massiva` binary
/// run against it as a real process.
final class DaemonHarness {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let binary = packageRoot + "/.build/debug/massiva"

    let root: String
    var spool: String { root + "/spool" }
    var configPath: String { root + "/massiva.cf" }
    var logPath: String { root + "/daemon.log" }

    init(settleTime: String = "0s", rescanInterval: String = "1h", extra: String = "") throws {
        var template = Array((NSTemporaryDirectory() + "massiva-daemon-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        try """
        spool_directory = \(root)/spool
        settle_time = \(settleTime)
        rescan_interval = \(rescanInterval)
        minimal_backoff_time = 1s
        maximal_backoff_time = 2s
        \(extra)
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["MASSIVA_CONFIG": configPath]) { $1 }
            .merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func check(_ arguments: [String]) throws {
        let result = try run(arguments)
        guard result.status == 0 else { throw HarnessError("massiva \(arguments.joined(separator: " ")) exited \(result.status)") }
    }

    /// Starts `massiva serve` in the background, its stderr appended to `logPath`.
    func startDaemon(environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve"]
        process.environment = ProcessInfo.processInfo.environment.merging(["MASSIVA_CONFIG": configPath]) { $1 }
            .merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Polls `condition` every 20 ms for up to `seconds`.
    @discardableResult
    func waitUntil(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
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

    /// One SQL answer from the spool's database through the sqlite3 shell, or nil without it.
    func sql(_ query: String) -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [spool + "/private/massiva.db", query]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try? process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
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
