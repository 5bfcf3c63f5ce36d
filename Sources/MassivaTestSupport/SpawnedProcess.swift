import CGlibc
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MassivaSystem
import Synchronization

/// A program a test runs as a real process (the built `massiva`, sqlite3, sftp, sshd), with its
/// output in files, reaped by this object.
///
/// `posix_spawnp` and `waitpid` rather than Foundation's `Process`, which was seen never to
/// notice an `sftp` child's exit (leaving it a zombie). The child gets an empty signal mask and
/// the default actions of the signals a test process may block or ignore, as a process started
/// from a shell would. Its members are named as `Process`'s are (`processIdentifier`,
/// `isRunning`, `waitUntilExit`, `terminationStatus`, `terminationReason`), so a test reads the
/// same either way.
public final class SpawnedProcess: Sendable {
    /// Where the child's stdout or stderr goes.
    public enum Output: Sendable {
        /// A file, created or truncated.
        case file(String)
        /// A file, created or appended to (a log kept across several starts).
        case appending(String)
        /// /dev/null.
        case discard
    }

    public enum TerminationReason: Sendable, Equatable {
        case exit
        case uncaughtSignal
    }

    /// The child's pid.
    public let processIdentifier: pid_t
    /// Where its stdout and stderr went, when to a file.
    public let standardOutputPath: String?
    public let standardErrorPath: String?
    /// A folder this object made for the output and removes when it goes (nil when the caller
    /// named the files).
    private let ownFolder: TemporaryDirectory?
    private let status = Mutex<Int32?>(nil)

    /// The environment a child gets: this process's, without MASSIVA_CONFIG (a test names its
    /// own configuration), with `extra` added.
    public static func environment(adding extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "MASSIVA_CONFIG")
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Starts `arguments[0]` (looked up in PATH when it has no slash) with `arguments`.
    /// - Parameters:
    ///   - environment: added to `SpawnedProcess.environment`.
    ///   - input: the child's stdin; /dev/null when nil.
    ///   - directory: its working directory; this process's when nil.
    ///   - standardOutput, standardError: files in a folder of this object's when nil.
    public init(_ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                directory: String? = nil, standardOutput: Output? = nil, standardError: Output? = nil) throws {
        precondition(!arguments.isEmpty)
        let folder = standardOutput == nil || standardError == nil || input != nil ? try TemporaryDirectory(prefix: "massiva-run") : nil
        let stdout = standardOutput ?? .file(folder!.path + "/out")
        let stderr = standardError ?? .file(folder!.path + "/err")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input, let folder {
            try input.write(toFile: folder.path + "/in", atomically: false, encoding: .utf8)
            posix_spawn_file_actions_addopen(&actions, 0, folder.path + "/in", O_RDONLY, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        for (descriptor, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .file(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .appending(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            case .discard: posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            }
        }
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        if let directory { posix_spawn_file_actions_addchdir_np(&actions, directory) }

        let attributes = SpawnAttributes(defaultSignals: [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2])

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = Self.environment(adding: environment).map { strdup($0.key + "=" + $0.value) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, arguments[0], &actions, attributes.pointer, argv, envp)
        guard spawned == 0 else { throw Errno(spawned) }
        processIdentifier = pid
        ownFolder = folder
        func path(_ output: Output) -> String? {
            switch output {
            case .file(let path), .appending(let path): return path
            case .discard: return nil
            }
        }
        standardOutputPath = path(stdout)
        standardErrorPath = path(stderr)
    }

    /// Reaps the child if it ended (`WNOHANG`), or waits for it (`blocking`); its wait status.
    private func reap(blocking: Bool) -> Int32? {
        status.withLock { stored in
            if let stored { return stored }
            var raw: Int32 = 0
            while true {
                let result = waitpid(processIdentifier, &raw, blocking ? 0 : WNOHANG)
                if result == processIdentifier { stored = raw; return raw }
                if result == -1 && errno == EINTR { continue }
                return nil
            }
        }
    }

    deinit {
        // Never leave a zombie nor a running child behind a test that failed before waiting.
        if reap(blocking: false) == nil {
            _ = Glibc.kill(processIdentifier, SIGKILL)
            _ = reap(blocking: true)
        }
    }

    /// True until the child ended (and is reaped).
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Blocks until the child ends.
    public func waitUntilExit() { _ = reap(blocking: true) }

    /// Waits until the child ends, at most `timeout` seconds: false when it still runs.
    public func waitUntilExit(timeout: Double) -> Bool {
        waitUntil(timeout: timeout, every: 0.005) { !isRunning }
    }

    /// Sends SIGTERM.
    public func terminate() { _ = Glibc.kill(processIdentifier, SIGTERM) }

    /// Sends `signal`.
    public func signal(_ signal: Int32) { _ = Glibc.kill(processIdentifier, signal) }

    /// The exit status, or the signal's number when a signal ended it (as `Process` says).
    public var terminationStatus: Int32 {
        let raw = reap(blocking: true) ?? 0
        return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    public var terminationReason: TerminationReason {
        let raw = reap(blocking: true) ?? 0
        return (raw & 0x7f) == 0 ? .exit : .uncaughtSignal
    }

    /// What it wrote to stdout so far.
    public var standardOutputText: String { standardOutputPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }
    /// What it wrote to stderr so far.
    public var standardErrorText: String { standardErrorPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }

    /// Waits for the child's end (SIGKILL at `timeout` seconds) and reads what it said.
    public func finish(timeout: Double) -> ProcessRun {
        var timedOut = false
        if !waitUntilExit(timeout: timeout) {
            timedOut = true
            signal(SIGKILL)
            waitUntilExit()
        }
        return ProcessRun(status: terminationStatus, stdout: standardOutputText, stderr: standardErrorText,
                          killed: terminationReason == .uncaughtSignal, timedOut: timedOut)
    }

    /// Runs `arguments` to its end (SIGKILL at `timeout` seconds): see `init` for the rest.
    public static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                           directory: String? = nil, timeout: Double = 600) throws -> ProcessRun {
        try SpawnedProcess(arguments, environment: environment, input: input, directory: directory).finish(timeout: timeout)
    }
}

/// What a finished program said.
public struct ProcessRun: Sendable {
    /// The exit status, or the number of the signal that ended it.
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when a signal ended it rather than an exit.
    public var killed: Bool
    /// True when it still ran at the deadline, and was killed.
    public var timedOut: Bool

    public init(status: Int32, stdout: String, stderr: String, killed: Bool, timedOut: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.killed = killed
        self.timedOut = timedOut
    }
}

/// Where the package is (from this file's path: Sources/MassivaTestSupport/SpawnedProcess.swift)
/// and the binary the tests run as a process.
public enum BuiltProgram {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    /// The debug build's `massiva` (`swift build`).
    public static let massiva = packageRoot + "/.build/debug/massiva"
}
