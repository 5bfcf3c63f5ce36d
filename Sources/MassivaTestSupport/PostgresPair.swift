import Foundation

/// A PostgreSQL 15 primary and its synchronous streaming standby on this machine, for the tests
/// of a database failover (issue 21): `a` starts as the primary, `b` as its standby (`pg_basebackup
/// -R`, `synchronous_standby_names = '*'` on `a`, so a commit returns once `b` has it). Each is a
/// `PostgresCluster` of its own (folder, port, socket, watchdog): both are stopped and removed
/// by `stop()` or deinit, and by their watchdogs when the test process is killed.
///
/// massiva reaches the pair by `uri(database:)`: both sockets, `target_session_attrs=read-write`,
/// so every connection (and reconnection) lands on whichever of the two is the primary now.
public final class PostgresPair: @unchecked Sendable {
    public let a: PostgresCluster
    public let b: PostgresCluster
    private var databases = 0
    private let lock = NSLock()

    /// Starts `a`, then `b` as its synchronous standby; waits until `b` streams as one.
    public static func start() throws -> PostgresPair {
        let a = try PostgresCluster.start()
        do {
            let b = try a.startStandby()
            do {
                try a.requireSynchronousStandby()
                return PostgresPair(a: a, b: b)
            } catch {
                b.stop()
                throw error
            }
        } catch {
            a.stop()
            throw error
        }
    }

    private init(a: PostgresCluster, b: PostgresCluster) {
        self.a = a
        self.b = b
        primaryCluster = a
    }

    deinit { stop() }

    /// Stops both servers and removes their folders (idempotent).
    public func stop() {
        b.stop()
        a.stop()
    }

    /// The multi-host URI of `database` (see `PostgresCluster.multiHostURI`).
    public func uri(database: String) -> String {
        PostgresCluster.multiHostURI(database: database, clusters: [a, b])
    }

    /// The server that takes writes now: `a` until `crashPrimaryAndPromote`, then `b`.
    public private(set) var primary: PostgresCluster {
        get { lock.withLock { primaryCluster } }
        set { lock.withLock { primaryCluster = newValue } }
    }
    private var primaryCluster: PostgresCluster

    /// The primary crashed (`pg_ctl stop -m immediate`: no checkpoint, no goodbye to the
    /// clients), then the standby promoted (`pg_ctl promote -w`), as a cluster manager would.
    /// `between` runs in between (while no server takes writes).
    public func crashPrimaryAndPromote(between: () throws -> Void = {}) throws {
        try a.stopImmediately()
        try between()
        try b.promote()
        primary = b
    }

    /// A fresh database on the primary (replicated to the standby), as a spool's database for
    /// massiva run as a process: its massiva.cf line names both servers (`uri(database:)`), and
    /// the test's psql reaches whichever is the primary through the same URI.
    public func spoolDatabase() throws -> SpoolDatabase {
        let number = lock.withLock { () -> Int in
            databases += 1
            return databases
        }
        let name = "massiva_pair_\(number)"
        try primary.psql("CREATE DATABASE \(name)")
        return SpoolDatabase(location: .postgresql(uri: uri(database: name)), cluster: nil, binDirectory: a.binDirectory)
    }

    /// Runs `sql` (psql -XAtq) in `database` on the primary now.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try primary.psql(sql, database: database)
    }
}
