#if canImport(Glibc)
import Glibc
#endif
import CGlibc

/// Runs another program (`posix_spawn`, no shell) and waits for it.
///
/// For the few system tools an operator command drives (`useradd`, `groupadd`, `userdel`):
/// they own the password and group databases and their locking, which massiva must not edit
/// behind their back.
public enum Subprocess {
    /// How a program ended and what it wrote on stderr (at most 64 KiB of it).
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal number when it was killed.
        public var status: Int32
        /// What it wrote on standard error, as text.
        public var errorOutput: String
        /// Whether it exited with status 0.
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `arguments[0]` (a path, or a name looked up in `PATH`) with `arguments`, with
    /// stdin from /dev/null, stdout to /dev/null and stderr captured.
    public static func run(_ arguments: [String]) throws(SystemError) -> Outcome {
        precondition(!arguments.isEmpty)
        var pipeEnds: [Int32] = [0, 0]
        // Close-on-exec from the start (pipe2), so the child holds only the copy dup'ed onto its
        // stderr (else our read would wait for the child's own write end to close: never), and
        // no child another thread spawns meanwhile inherits either end.
        try SystemError.check("pipe2") { pipe2(&pipeEnds, O_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        // Nothing else of this process reaches the child (a descriptor opened without
        // close-on-exec by a library would otherwise stay open in useradd, groupdel, pkill).
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        var pid = pid_t()
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        Glibc.close(pipeEnds[1])
        guard spawned == 0 else {
            Glibc.close(pipeEnds[0])
            throw SystemError("posix_spawn", path: arguments[0], errno: Errno(spawned))
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(pipeEnds[0], $0.baseAddress!, $0.count) }
            if n > 0 {
                if output.count < 1 << 16 { output += buffer[0..<min(n, (1 << 16) - output.count)] }
            } else if n == 0 || errno != EINTR {
                break
            }
        }
        Glibc.close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { throw SystemError("waitpid", path: arguments[0], errno: .current) }
        }
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitStatus, errorOutput: String(decoding: output, as: UTF8.self))
    }
}
