import CGlibc
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MassivaSystem
import Synchronization

/// A throwaway PostgreSQL 15 cluster for tests: `initdb` into a fresh `/tmp/mpgXXXXXX`, run as
/// the `postgres` Unix user, trust authentication for superuser `massiva_test`, on a free TCP
/// port of 127.0.0.1 and a Unix socket in that folder.
///
/// It never outlives the test process: `stop()` (or `deinit`, or the exit handler of the shared
/// one) stops it and removes the folder; and when the process is killed (SIGKILL, a crash) a
/// watchdog process does: it holds one end of a socket pair whose other end only this process
/// holds (close-on-exec, so no child inherits it), and when that end closes with the process
/// it runs `pg_ctl stop -m immediate` and removes the folder.
///
/// Settings for speed, safe for tests only: `fsync`, `full_page_writes` off (they only matter
/// when the machine itself crashes, which no test does); `max_connections` 200.
public final class PostgresCluster: @unchecked Sendable {
    /// Why a cluster could not be made or a command failed: the command, its output, the log.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The folder of the cluster: its Unix socket, `data/`, `server.log`. Short (a socket path
    /// has a 107-byte limit), so under /tmp whatever TMPDIR says.
    public let socketDirectory: String
    /// The TCP port on 127.0.0.1, which is also the Unix socket's number.
    public let port: Int
    /// The superuser (trust authentication: no password).
    public let superuser: String
    /// The cluster's data directory (`socketDirectory/data`).
    public let dataDirectory: String
    /// The server's log (`pg_ctl -l`), appended to at every start.
    public let logFile: String
    /// The PostgreSQL programs' folder (`pg_config --bindir`).
    public let binDirectory: String

    private struct State {
        var stopped = false
        /// This process's end of the watchdog's lifeline; -1 once closed or handed on.
        var lifeline: Int32 = -1
        var watchdog: pid_t = 0
        /// This process's end of the stdin of the child holding the lifeline (`handOwnershipToChild`).
        var ownerInput: Int32 = -1
        var databases = 0
    }
    private let state: Mutex<State>

    // MARK: - Starting

    private static let sharedCluster = Mutex<PostgresCluster?>(nil)

    /// One cluster per test process, started on first use (thread-safe), stopped at process exit.
    public static func shared() throws -> PostgresCluster {
        try sharedCluster.withLock { (cluster: inout PostgresCluster?) throws -> PostgresCluster in
            if let cluster { return cluster }
            let started = try start()
            cluster = started
            // Stopped in order (-m fast) at exit; the watchdog covers an exit that skips atexit.
            atexit { PostgresCluster.sharedCluster.withLock { $0 }?.stop() }
            return started
        }
    }

    /// A new cluster of its own (for tests that stop/crash the server); `stop()` it when done
    /// (deinit also does).
    public static func start() throws -> PostgresCluster {
        try launch { try $0.initialize() }
    }

    /// A streaming standby of this cluster (which must be running): a cluster of its own (folder,
    /// port, watchdog) made by `pg_basebackup -R` from this one, so it follows this one's WAL
    /// until `promote()`. It connects as `applicationName` (`primary_conninfo`), the name
    /// `synchronous_standby_names` can give (`requireSynchronousStandby`). Its settings are this
    /// one's (postgresql.conf is copied), its socket in its own folder; the standby's own
    /// `synchronous_standby_names` is empty whatever this one's is, so that once promoted it
    /// commits without waiting for a standby it does not have.
    public func startStandby(applicationName: String = "standby1") throws -> PostgresCluster {
        try Self.launch { standby in try standby.copy(from: self, applicationName: applicationName) }
    }

    /// A folder with its watchdog, `prepare` of the cluster in it (initdb, or a base backup), and
    /// the server started on a free port (another, when a process took it meanwhile).
    private static func launch(_ prepare: (PostgresCluster) throws -> Void) throws -> PostgresCluster {
        let bin = binDirectory()
        // The watchdog makes the folder and says its name: there is no moment when the folder
        // exists and nobody would remove it (a kill -9 50 ms into the tests once left one
        // between this process's mkdtemp and the watchdog's start).
        let (lifeline, watchdog, folder) = try startWatchdog(binDirectory: bin)
        var cluster: PostgresCluster?
        do {
            if geteuid() == 0 {
                guard let postgres = UnixUser.named("postgres") else {
                    throw Failure(description: "no Unix user postgres: is postgresql-15 installed (scripts/ensure-deps --test)?")
                }
                guard chown(folder, uid_t(postgres.uid), gid_t(postgres.gid)) == 0 else {
                    throw Failure(description: "chown \(folder): \(Errno.current)")
                }
            }
            // 0755, not mktemp's 0700: a test may run a program as another user (the daemon as
            // its own user) that connects through the socket in here; data/ stays 0700.
            chmod(folder, 0o755)
            cluster = PostgresCluster(folder: folder, port: try freePort(), binDirectory: bin, lifeline: lifeline, watchdog: watchdog)
            try prepare(cluster!)
            // Another process may take the free port between our probe and the server's bind
            // (two test processes start clusters at once): then try another one.
            var attempt = 1
            while true {
                do {
                    try cluster!.runPgCtl(["start", "-w", "-t", "120", "-o", "-p \(cluster!.port)"])
                    return cluster!
                } catch is Failure where attempt < 20 && cluster!.portWasTaken() {
                    attempt += 1
                    // The failed start's log goes, so that the next failure is judged on its own.
                    unlink(cluster!.logFile)
                    let next = PostgresCluster(folder: folder, port: try freePort(), binDirectory: bin,
                                               lifeline: cluster!.takeLifeline(), watchdog: watchdog)
                    cluster!.state.withLock { $0.stopped = true }
                    cluster = next
                }
            }
        } catch {
            if let cluster {
                cluster.stop()
            } else {
                TemporaryDirectory.removeTree(folder)
                release(lifeline: lifeline, watchdog: watchdog)
            }
            throw error
        }
    }

    private init(folder: String, port: Int, binDirectory: String, lifeline: Int32, watchdog: pid_t) {
        socketDirectory = folder
        dataDirectory = folder + "/data"
        logFile = folder + "/server.log"
        self.port = port
        self.binDirectory = binDirectory
        superuser = "massiva_test"
        state = Mutex(State(lifeline: lifeline, watchdog: watchdog))
    }

    deinit { stop() }

    /// `initdb` and the settings appended to postgresql.conf.
    private func initialize() throws {
        let initdb = try run(asPostgres([binDirectory + "/initdb", "-D", dataDirectory, "--auth=trust", "-U", superuser,
                                         "--no-sync", "--locale=C", "--encoding=UTF8", "--no-instructions"]))
        guard initdb.status == 0, !initdb.killed else {
            throw Failure(description: "initdb failed (\(initdb.status)): \(initdb.stderr)\(initdb.stdout)")
        }
        // synchronous_commit stays on: a test that crashes the server (stopImmediately) expects
        // what was committed to be there after the restart, and with it off a commit can still be
        // in the WAL buffers, lost with the server. With fsync off it costs a write(2) a commit,
        // nothing measurable: pgbench -c 4 -T 10 here, twice each, 4445 and 4561 tps on, 4382 and
        // 4523 off.
        let settings = """

            # massiva's test cluster (MassivaTestSupport.PostgresCluster)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(socketDirectory)'
            fsync = off
            full_page_writes = off
            synchronous_commit = on
            max_connections = 200

            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
    }

    /// `pg_basebackup -R -X stream` of `primary` into this cluster's data directory (as postgres),
    /// with this folder's socket and no synchronous standby of its own.
    private func copy(from primary: PostgresCluster, applicationName: String) throws {
        let backup = try run(asPostgres([binDirectory + "/pg_basebackup", "-D", dataDirectory, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
                                         "-d", "host=\(primary.socketDirectory) port=\(primary.port) user=\(primary.superuser) "
                                            + "application_name=\(applicationName)"]))
        guard backup.status == 0, !backup.killed else {
            throw Failure(description: "pg_basebackup failed (\(backup.status)): \(backup.stderr)\(backup.stdout)")
        }
        // Appended after the primary's lines (the last of a setting wins). ALTER SYSTEM's
        // postgresql.auto.conf, read after postgresql.conf, is the primary's too: its
        // synchronous_standby_names is reset there (pg_basebackup -R wrote primary_conninfo in it).
        try append("""

            # a standby of \(primary.socketDirectory) (PostgresCluster.startStandby)
            unix_socket_directories = '\(socketDirectory)'
            synchronous_standby_names = ''

            """, to: dataDirectory + "/postgresql.conf")
        try append("synchronous_standby_names = ''\n", to: dataDirectory + "/postgresql.auto.conf")
    }

    private func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    // MARK: - Using

    /// A fresh, empty database (unique name), returned as a libpq URI over the Unix socket:
    /// `postgresql:///NAME?host=SOCKETDIR&port=PORT&user=SUPERUSER`.
    public func createDatabase() throws -> String {
        let number = state.withLock { s -> Int in
            s.databases += 1
            return s.databases
        }
        let name = "massiva_\(number)"
        _ = try psql("CREATE DATABASE \(name)")
        return uri(database: name)
    }

    /// The libpq URI of `database` over the Unix socket, as the superuser.
    public func uri(database: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let name = database.addingPercentEncoding(withAllowedCharacters: allowed) ?? database
        return "postgresql:///\(name)?host=\(socketDirectory)&port=\(port)&user=\(superuser)"
    }

    /// Runs `sql` (any number of statements, stopping at the first error) with
    /// `psql -XAtq` in `database` and returns what it printed, without the trailing newline:
    /// unaligned, tuples only, so `SELECT 1, 'a'` gives `1|a`. Throws with psql's stderr when a
    /// statement fails.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try run([binDirectory + "/psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory,
                              "-p", String(port), "-U", superuser, "-d", database], input: sql)
        guard result.status == 0, !result.killed else {
            throw Failure(description: "psql in \(database) failed (\(result.status)): \(result.stderr)")
        }
        var output = result.stdout
        while output.hasSuffix("\n") { output.removeLast() }
        return output
    }

    /// The postmaster's pid, from `data/postmaster.pid` (nil when there is none: stopped).
    public var postmasterProcessIdentifier: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let line = text.split(separator: "\n").first else { return nil }
        return pid_t(line.trimmingCharacters(in: .whitespaces))
    }

    // MARK: - Replication

    /// Makes every commit of this (primary) cluster wait until a standby has it
    /// (`synchronous_standby_names`, by ALTER SYSTEM and a reload), and waits until one standby
    /// streams as a synchronous one (`pg_stat_replication`). `names`: which standbys count
    /// (`*`: any).
    public func requireSynchronousStandby(_ names: String = "*") throws {
        try psql("ALTER SYSTEM SET synchronous_standby_names = '\(names)'")
        try psql("SELECT pg_reload_conf()")
        let synchronous = try waitUntil(timeout: 120, every: 0.05) {
            try psql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'") != "0"
        }
        guard synchronous else {
            throw Failure(description: "no synchronous standby streams from \(socketDirectory) after 120 s: "
                + ((try? psql("SELECT application_name, state, sync_state FROM pg_stat_replication")) ?? ""))
        }
    }

    /// `pg_ctl promote -w`: this standby leaves recovery and takes writes.
    public func promote() throws {
        try runPgCtl(["promote", "-w", "-t", "120"])
    }

    /// Whether the server is a standby in recovery (`pg_is_in_recovery()`).
    public func isInRecovery() throws -> Bool { try psql("SELECT pg_is_in_recovery()") == "t" }

    /// A libpq URI naming `database` on every one of `clusters` in turn (their sockets, comma
    /// separated, with their ports), `target_session_attrs=read-write`: libpq tries them in
    /// order and keeps the first that takes writes, the primary, whichever it is now.
    public static func multiHostURI(database: String, clusters: [PostgresCluster]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let name = database.addingPercentEncoding(withAllowedCharacters: allowed) ?? database
        return "postgresql:///\(name)?host=\(clusters.map(\.socketDirectory).joined(separator: ","))"
            + "&port=\(clusters.map { String($0.port) }.joined(separator: ","))&user=\(clusters[0].superuser)"
            + "&target_session_attrs=read-write"
    }

    // MARK: - Stopping

    /// `pg_ctl stop -m immediate`: the server ends at once, as in a crash (no checkpoint; the
    /// next start recovers from the WAL).
    public func stopImmediately() throws {
        try runPgCtl(["stop", "-w", "-t", "120", "-m", "immediate"])
    }

    /// `pg_ctl start -w` on the same data directory and port.
    public func startAgain() throws {
        try runPgCtl(["start", "-w", "-t", "120", "-o", "-p \(port)"])
    }

    /// `pg_ctl stop -m fast` and removes the folder; idempotent, never throws (what it cannot
    /// stop in order it stops at once; the watchdog is the last resort).
    public func stop() {
        let already = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return s.stopped
        }
        if already { return }
        if (try? runPgCtl(["stop", "-w", "-t", "60", "-m", "fast"])) == nil, postmasterIsRunning {
            _ = try? runPgCtl(["stop", "-w", "-t", "60", "-m", "immediate"])
        }
        TemporaryDirectory.removeTree(socketDirectory)
        let (lifeline, watchdog, ownerInput) = state.withLock { s -> (Int32, pid_t, Int32) in
            defer { s.lifeline = -1; s.watchdog = 0; s.ownerInput = -1 }
            return (s.lifeline, s.watchdog, s.ownerInput)
        }
        // A child still holding the lifeline ends with its stdin, and the watchdog with it.
        if ownerInput >= 0 { close(ownerInput) }
        Self.release(lifeline: lifeline, watchdog: watchdog)
    }

    private var postmasterIsRunning: Bool {
        guard let pid = postmasterProcessIdentifier else { return false }
        return kill(pid, 0) == 0
    }

    /// For the watchdog's own test: hands this process's end of the lifeline to a new child
    /// process (`cat`, with the lifeline as its stdout), so that the cluster is removed when
    /// that child dies: kill it (SIGKILL) and reap it (`waitpid`). Its stdin is a pipe from this
    /// process, so it also ends with this process or with `stop()`: it never keeps a cluster
    /// alive after the test (a `sleep` as the owner did, when the test process was killed first).
    public func handOwnershipToChild() throws -> pid_t {
        var input: [Int32] = [-1, -1]
        guard pipe2(&input, O_CLOEXEC) == 0 else { throw Failure(description: "pipe2: \(Errno.current)") }
        let lifeline = takeLifeline()
        defer { close(lifeline); close(input[0]) }
        do {
            let pid = try Self.spawn(["cat"], standardInput: input[0], standardOutput: lifeline, ownProcessGroup: false)
            state.withLock { $0.ownerInput = input[1] }
            return pid
        } catch {
            close(input[1])
            throw error
        }
    }

    private func takeLifeline() -> Int32 {
        state.withLock { s -> Int32 in
            defer { s.lifeline = -1 }
            return s.lifeline
        }
    }

    // MARK: - The watchdog

    /// The watchdog's script (`$1`: the PostgreSQL programs' folder). It makes the folder
    /// (`mktemp -d`) and writes its name as its first line on the lifeline, which is its stdin
    /// and stdout. Then it reads a line, which is `stopped` when this process stopped the
    /// cluster itself (nothing left to do), or nothing at all when the other end closed with
    /// this process: then it stops the server at once and removes the folder.
    ///
    /// Before that it waits (polling, at most 10 minutes) until no process works in the folder:
    /// the programs this process runs there (initdb, pg_ctl, psql, each with the folder as
    /// working directory; the server itself works in data/) outlive it, and an initdb still
    /// writing while `rm -rf` ran was seen to leave the folder behind (a kill -9 one second into
    /// the tests, 2 times out of 3).
    ///
    /// It ignores the terminal's SIGINT and SIGHUP, which would otherwise end it with the test
    /// process, and SIGPIPE (the name written to a process already gone); its own process
    /// group keeps it out of a group kill.
    private static let watchdogScript = """
        trap '' HUP INT PIPE
        folder=$(mktemp -d /tmp/mpgXXXXXX) || exit 1
        echo "$folder"
        exec >/dev/null 2>&1
        IFS= read -r said
        [ "$said" = stopped ] && exit 0
        polls=0
        while [ $polls -lt 6000 ] && [ -n "$(find /proc/[0-9]*/cwd -maxdepth 0 -lname "$folder" -print -quit 2>/dev/null)" ]; do
            sleep 0.1
            polls=$((polls + 1))
        done
        if [ "$(id -u)" = 0 ]; then
            runuser -u postgres -- "$1/pg_ctl" stop -D "$folder/data" -m immediate -w -t 60
        else
            "$1/pg_ctl" stop -D "$folder/data" -m immediate -w -t 60
        fi
        rm -rf -- "$folder"
        """

    /// Starts a watchdog: this process's end of the lifeline, the watchdog's pid and the folder
    /// it made. A socket pair rather than a pipe: one descriptor each way, and
    /// `send(MSG_NOSIGNAL)` cannot raise SIGPIPE in the test process should the watchdog be gone.
    private static func startWatchdog(binDirectory: String) throws -> (lifeline: Int32, watchdog: pid_t, folder: String) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw Failure(description: "socketpair: \(Errno.current)")
        }
        let pid: pid_t
        do {
            defer { close(ends[1]) }
            pid = try spawn(["/bin/sh", "-c", watchdogScript, "massiva-pg-watchdog", binDirectory],
                            standardInput: ends[1], standardOutput: ends[1], ownProcessGroup: true)
        } catch {
            close(ends[0])
            throw error
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = recv(ends[0], &byte, 1, 0)
            if count == 1 {
                if byte == UInt8(ascii: "\n") { break }
                line.append(byte)
            } else if !(count == -1 && errno == EINTR) {
                release(lifeline: ends[0], watchdog: pid)
                throw Failure(description: "the watchdog could not make a folder in /tmp (mktemp -d /tmp/mpgXXXXXX)")
            }
        }
        return (ends[0], pid, String(decoding: line, as: UTF8.self))
    }

    /// Tells the watchdog that the cluster is gone (or, when the line cannot be sent, closes the
    /// lifeline: it then cleans up what is left) and reaps it.
    private static func release(lifeline: Int32, watchdog: pid_t) {
        if lifeline >= 0 {
            let line = Array("stopped\n".utf8)
            _ = line.withUnsafeBytes { send(lifeline, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(lifeline)
        }
        guard watchdog > 0 else { return }
        var status: Int32 = 0
        let reaped = waitUntil(timeout: 120, every: 0.005) {
            let result = waitpid(watchdog, &status, WNOHANG)
            return result == watchdog || (result == -1 && errno == ECHILD)
        }
        if !reaped {
            kill(watchdog, SIGKILL)
            while waitpid(watchdog, &status, 0) == -1 && errno == EINTR {}
        }
    }

    /// posix_spawn of `arguments` with `standardInput` as its stdin, `standardOutput` (or
    /// /dev/null) as its stdout, /dev/null as its stderr, no other descriptor, the signals at
    /// their defaults, in `/`.
    private static func spawn(_ arguments: [String], standardInput: Int32, standardOutput: Int32? = nil,
                              ownProcessGroup: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        if let standardOutput {
            posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        posix_spawn_file_actions_addchdir_np(&actions, "/")
        let attributes = SpawnAttributes(defaultSignals: [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2],
                                         ownProcessGroup: ownProcessGroup)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = SpawnedProcess.environment(adding: [:]).map { strdup($0.key + "=" + $0.value) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, arguments[0], &actions, attributes.pointer, argv, envp)
        guard spawned == 0 else { throw Failure(description: "posix_spawn \(arguments[0]): \(Errno(spawned))") }
        return pid
    }

    // MARK: - Running the programs

    /// `pg_config --bindir`, or Debian's folder of PostgreSQL 15 when there is no pg_config.
    private static func binDirectory() -> String {
        if let run = try? SpawnedProcess.run(["pg_config", "--bindir"], timeout: 60), run.status == 0, !run.killed {
            let path = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.isExecutableFile(atPath: path + "/initdb") { return path }
        }
        return "/usr/lib/postgresql/15/bin"
    }

    /// A free TCP port of 127.0.0.1: bound with port 0, read back, closed.
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: \(Errno.current)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> Bool in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "bind 127.0.0.1:0: \(Errno.current)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `arguments` run as the `postgres` user when this process is root (initdb and the server
    /// refuse to run as root), as they are otherwise; and without libfaketime (scripts/test's
    /// faketime passes): under it the server's timers do not fire (a lock wait with a 100 ms
    /// lock_timeout hung for minutes, and the test process with it). The server is another
    /// machine whose clock is right; massiva binds its times as parameters and never reads the
    /// server's clock, so the faked client is what those passes check.
    private func asPostgres(_ arguments: [String]) -> [String] {
        let command = geteuid() == 0 ? ["runuser", "-u", "postgres", "--"] + arguments : arguments
        return ["env", "-u", "LD_PRELOAD", "-u", "FAKETIME", "-u", "FAKETIME_DONT_FAKE_MONOTONIC", "-u", "NO_FAKE_STAT"] + command
    }

    private func run(_ arguments: [String], input: String? = nil) throws -> ProcessRun {
        // In the cluster's folder: postgres cannot enter root's working directory.
        try SpawnedProcess.run(arguments, input: input, directory: socketDirectory, timeout: 300)
    }

    /// `pg_ctl <arguments> -D data -l server.log` as postgres; throws with its output and the
    /// log's end when it fails.
    private func runPgCtl(_ arguments: [String]) throws {
        let result = try run(asPostgres([binDirectory + "/pg_ctl"] + arguments + ["-D", dataDirectory, "-l", logFile]))
        guard result.status == 0, !result.killed else {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw Failure(description: "pg_ctl \(arguments.joined(separator: " ")) failed (\(result.status)): "
                + "\(result.stdout)\(result.stderr)\nserver log:\n\(log.suffix(4000))")
        }
    }

    /// True when the last start failed because the port was in use.
    private func portWasTaken() -> Bool {
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return log.contains("Address already in use")
    }
}
