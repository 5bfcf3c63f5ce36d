#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered writes of whole lines to standard error (`write(2)`, no stdio buffering),
/// for diagnostics that must not be lost or interleaved mid-line.
public enum StandardError {
    /// Writes `line` followed by a newline with a single `write` where possible.
    /// Errors (e.g. a closed stderr) are ignored.
    public static func write(_ line: String) {
        try? FileDescriptor.standardError.writeAll((line + "\n").utf8)
    }
}

/// Unbuffered writes of whole lines to standard output.
public enum StandardOutput {
    /// Writes `line` followed by a newline. Errors (e.g. `EPIPE`) are ignored.
    public static func write(_ line: String) {
        try? FileDescriptor.standardOutput.writeAll((line + "\n").utf8)
    }
}

/// Facts about, and the end of, the current process.
public enum CurrentProcess {
    /// `getpid()`.
    public static var id: Int32 { getpid() }

    /// `getuid()`: the real user id.
    public static var userID: UInt32 { UInt32(getuid()) }

    /// Whether process `pid` exists (`kill(pid, 0)`): false only when the kernel says there is
    /// no such process (`ESRCH`); one of another user (`EPERM`) exists.
    public static func exists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    /// The process's environment (`environ`), name to value.
    public static var environment: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// The current working directory (`getcwd`), or nil when it cannot be named (removed,
    /// or not reachable any more).
    public static var currentDirectory: String? {
        guard let pointer = getcwd(nil, 0) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// `geteuid()`: the effective user id.
    public static var effectiveUserID: UInt32 { UInt32(geteuid()) }

    /// Ends the process with `status` (`exit(3)`: stdio flushed, atexit handlers run).
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}
