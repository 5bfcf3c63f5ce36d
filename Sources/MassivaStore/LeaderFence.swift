import MassivaDatabase
import Synchronization

/// The check at the start of every transaction the engine commits: this node leads the spool
/// under the term it believes, so a former leader (paused by SIGSTOP, a VM's freeze, a long GC
/// of the hypervisor, cut off by the network) whose lease another node has taken over since
/// commits nothing, whatever its threads were doing when it stopped.
///
/// Two checks, in order: the node's own trust (`LeaderElection`), on the monotonic clock, with
/// no database involved (a leader that could not renew stops before its lease ends); then, in
/// the transaction itself, the lease's row: still this holder, still this term. On SQLite the
/// transaction already holds the database's write lock (`BEGIN IMMEDIATE`), so no takeover can
/// commit between the check and the commit. On PostgreSQL the row is read `FOR SHARE`: a
/// takeover's `UPDATE` of it waits for this transaction's end (see `checkSQL`).
///
/// Which transactions are fenced: those on the engine's connections (`install`), the daemon's
/// and `serve --once`'s: claiming and recording uploads, processing and retrying, the results'
/// and lists' state, retention, the outbox's delivery. Not the operators' commands (`tenant
/// add`, `cancel`, `associate`, `show --restore`...): they run in processes of their own on
/// either host, they hold no lease, and what they write is a request of the operator's that the
/// leader then acts on; fencing them would make the standby's host useless for operating the
/// spool. Their transactions are as safe on either host as with one daemon: the database
/// serialises them with the leader's.
public final class LeaderFence: Sendable {
    public let lease: (spool: String, holder: String)
    private let monotonic: @Sendable () -> Double
    /// The term this node leads under and until when (monotonic) it trusts it; nil: it does not lead.
    private let state = Mutex<(term: Int, trustedUntil: Double)?>(nil)

    /// How long one of the fenced connections' transactions may sit idle before the server
    /// ends it (`Database.limitIdleTransactions`): the lease's length, so a leader frozen in a
    /// transaction keeps its locks no longer than its lease.
    public let idleTransactionLimit: Double?

    public init(spool: String, holder: LeaseHolder, monotonic: @escaping @Sendable () -> Double, idleTransactionLimit: Double? = nil) {
        lease = (spool, holder.id)
        self.monotonic = monotonic
        self.idleTransactionLimit = idleTransactionLimit
    }

    /// This node leads under `term` until `trustedUntil` (monotonic), as its elector decided.
    public func lead(term: Int, trustedUntil: Double) {
        state.withLock { $0 = (term, trustedUntil) }
    }

    /// This node does not lead (standby, or stopping).
    public func standBy() {
        state.withLock { $0 = nil }
    }

    /// The term this node leads under and trusts now, or nil.
    public var trustedTerm: Int? {
        let now = monotonic()
        return state.withLock { s in s.flatMap { now < $0.trustedUntil ? $0.term : nil } }
    }

    /// Whether this node may start work now: claim, probe, deliver, write.
    public var isTrusted: Bool { trustedTerm != nil }

    /// The lease's row, this holder's, read with the lock that keeps a takeover out until the
    /// transaction ends. SQLite: none needed (the transaction holds the database's write lock),
    /// and SQLite has no `FOR SHARE`; on PostgreSQL `check` appends ` FOR SHARE`.
    public static let checkSQL = "SELECT term FROM leader_lease WHERE spool = ? AND holder = ?"

    /// Throws `Fenced` unless this node trusts its lease and the database agrees, in the
    /// transaction under way on `database`.
    public func check(_ database: Database) throws {
        guard let term = trustedTerm else { throw Fenced(reason: "no lease trusted now") }
        let found = try database.queryOne(database.dialect(sqlite: Self.checkSQL, postgresql: Self.checkSQL + " FOR SHARE"),
                                          [.text(lease.spool), .text(lease.holder)]) { $0.int(0) }
        guard found == term else {
            throw Fenced(reason: found == nil ? "another node took the lease over" : "the lease's term is \(found!), not \(term)")
        }
    }

    /// Makes every write transaction on `database` begin with `check`, and refuses a write
    /// outside a transaction there (it could not be checked).
    public func install(on database: Database) {
        database.writeGuard = { [self] database in try check(database) }
        // Best effort: a connection that cannot take the setting is still fenced; a frozen
        // leader's lock then lasts as long as it is frozen, as before.
        if let idleTransactionLimit { try? database.limitIdleTransactions(to: idleTransactionLimit) }
    }
}
