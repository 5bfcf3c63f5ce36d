#if canImport(Glibc)
import Glibc
#endif
import CGlibc
import Synchronization

/// Runs a program the operator configured (a meter probe, an association command) with a time
/// limit and bounded output, from any thread, many at once.
///
/// `posix_spawn` (no shell, no `PATH` search: the program is an absolute path), in a process
/// group of its own, with stdin from /dev/null and stdout and stderr into one pipe made
/// close-on-exec atomically (`pipe2`, non-blocking on massiva's end only), every other descriptor closed in the child, the
/// signal mask emptied and the signals the daemon blocks or ignores back to their defaults (a
/// child inherits them through exec otherwise). The first `outputLimit` bytes of its output are
/// kept, the rest read and dropped, so a chatty program never blocks on a full pipe nor costs
/// memory. At the deadline, or when `cancellation` is cancelled, the whole process group gets
/// SIGKILL; once the program ends its group gets SIGKILL too (nothing it started outlives it),
/// and the child is always reaped.
public enum ChildProcess {
    /// How the program ended.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        /// Killed by a signal it did not get from us.
        case signalled(Int32)
        /// Still running at the deadline: killed.
        case timedOut
        /// Killed because its `Cancellation` was cancelled (or not started: already cancelled).
        case cancelled
    }

    public struct Outcome: Sendable {
        public var termination: Termination
        /// The first bytes of stdout and stderr together.
        public var output: [UInt8]
        /// How many more bytes it wrote, read and dropped.
        public var droppedBytes: Int

        /// The output as text for a log line: invalid UTF-8 replaced, a note when cut.
        public var outputText: String {
            var text = String(decoding: output, as: UTF8.self)
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            if droppedBytes > 0 { text += " [... \(droppedBytes) more bytes]" }
            return text
        }
    }

    /// Kills every child run under it, now and later (SIGTERM of the daemon: probes in flight
    /// are killed; their rows are tried again later). Safe from any thread.
    public final class Cancellation: Sendable {
        private struct State {
            var cancelled = false
            var groups: Set<pid_t> = []
        }
        private let state = Mutex(State())

        public init() {}

        public var isCancelled: Bool { state.withLock { $0.cancelled } }

        public func cancel() {
            let groups = state.withLock { s -> Set<pid_t> in
                s.cancelled = true
                return s.groups
            }
            for group in groups { _ = kill(-group, SIGKILL) }
        }

        /// Records a running child's group; false (and the group killed) when already cancelled.
        fileprivate func register(_ group: pid_t) -> Bool {
            let accepted = state.withLock { s -> Bool in
                if s.cancelled { return false }
                s.groups.insert(group)
                return true
            }
            if !accepted { _ = kill(-group, SIGKILL) }
            return accepted
        }

        fileprivate func unregister(_ group: pid_t) {
            _ = state.withLock { $0.groups.remove(group) }
        }
    }

    /// Empties this process's ambient capability set, so the programs it runs do not inherit a
    /// capability the service manager gave it (`AmbientCapabilities=CAP_DAC_READ_SEARCH`): the
    /// daemon keeps it (permitted and effective), a probe script does not get it. Best effort.
    public static func dropInheritedCapabilities() {
        _ = massiva_clear_ambient_capabilities()
    }

    /// Runs `arguments` (`arguments[0]` an absolute path) until it ends, `timeout` seconds pass,
    /// or `cancellation` is cancelled. Throws only when it cannot be started.
    public static func run(_ arguments: [String], timeout: Double, outputLimit: Int = 4096,
                           cancellation: Cancellation? = nil) throws(SystemError) -> Outcome {
        precondition(!arguments.isEmpty)
        if cancellation?.isCancelled == true { return Outcome(termination: .cancelled, output: [], droppedBytes: 0) }
        let deadline = SystemClock.monotonic + timeout
        var ends: [Int32] = [-1, -1]
        try SystemError.check("pipe2") { pipe2(&ends, O_CLOEXEC) }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        // Non-blocking on our end only: the program's end (its stdout) must block when the pipe
        // is full, or its writes fail with EAGAIN.
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)  // dup2 clears close-on-exec
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        let attributes = SpawnAttributes(defaultSignals: [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD], ownProcessGroup: true)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = childEnvironment()
        defer { for pointer in environment { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, arguments[0], &actions, attributes.pointer, argv, environment)
        Glibc.close(writeEnd)
        guard spawned == 0 else {
            Glibc.close(readEnd)
            throw SystemError("posix_spawn", path: arguments[0], errno: Errno(spawned))
        }
        var cancelledByUs = false
        if let cancellation, !cancellation.register(pid) { cancelledByUs = true }
        defer { cancellation?.unregister(pid) }

        var output: [UInt8] = []
        var dropped = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        var open = true
        /// Reads what is there now; false at end of file.
        func drain() -> Bool {
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress!, $0.count) }
                if n > 0 {
                    let keep = max(0, min(n, outputLimit - output.count))
                    output += buffer[0..<keep]
                    dropped += n - keep
                } else if n == 0 {
                    return false
                } else {
                    return errno == EINTR ? true : errno == EAGAIN ? true : false
                }
            }
        }
        var status: Int32 = 0
        var timedOut = false
        var idleLooks = 0
        while true {
            if reap(pid, &status) { break }
            if cancellation?.isCancelled == true { cancelledByUs = true }
            if !timedOut && !cancelledByUs && SystemClock.monotonic >= deadline { timedOut = true }
            if timedOut || cancelledByUs {
                _ = kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                break
            }
            // Wait for output or its end, at most 20 ms at a time: the program may end while
            // something it started keeps the pipe open, and the deadline must be kept.
            let slice = Int32(max(1, min(20, (deadline - SystemClock.monotonic) * 1000)))
            if open {
                var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, slice) > 0 { open = drain() }
            } else {
                // Its output is closed but it runs on: look again after 1 ms, then less often.
                var pause = timespec(tv_sec: 0, tv_nsec: min(20, idleLooks + 1) * 1_000_000)
                nanosleep(&pause, nil)
                idleLooks += 1
            }
        }
        _ = kill(-pid, SIGKILL)  // whatever it left behind in its group
        if open { _ = drain() }
        Glibc.close(readEnd)
        // Killed by a cancellation between two looks at it: ours too, not the program's end.
        if !cancelledByUs, cancellation?.isCancelled == true, status & 0x7f == SIGKILL { cancelledByUs = true }
        let termination: Termination
        if cancelledByUs {
            termination = .cancelled
        } else if timedOut {
            termination = .timedOut
        } else if status & 0x7f == 0 {
            termination = .exited((status >> 8) & 0xff)
        } else {
            termination = .signalled(status & 0x7f)
        }
        return Outcome(termination: termination, output: output, droppedBytes: dropped)
    }

    /// True when the child has ended (and is reaped), false while it runs.
    private static func reap(_ pid: pid_t, _ status: inout Int32) -> Bool {
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return true }
            if r == 0 { return false }
            if errno != EINTR { return true }  // ECHILD: reaped already, nothing to wait for
        }
    }

    /// The daemon's environment without what belongs to its own service manager.
    private static func childEnvironment() -> [UnsafeMutablePointer<CChar>?] {
        var out: [UnsafeMutablePointer<CChar>?] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            let name = text.prefix(while: { $0 != "=" })
            if !["NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"].contains(String(name)) {
                out.append(strdup(entry))
            }
            cursor += 1
        }
        return out + [nil]
    }
}
