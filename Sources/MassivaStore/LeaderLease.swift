import MassivaDatabase

/// Who holds, or asks for, a spool's lease: one process, told apart from every other by its
/// node, host, pid and start time (a pid reused after a restart is another holder).
public struct LeaseHolder: Sendable, Equatable {
    /// `node_name` (the host name unless set).
    public let node: String
    public let host: String
    public let pid: Int
    /// When the process started, seconds since 1970.
    public let startedAt: Double

    public init(node: String, host: String, pid: Int, startedAt: Double) {
        self.node = node
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
    }

    /// The key stored in `leader_lease.holder`: unique per process.
    public var id: String { "\(node)@\(host):\(pid):\(Int64((startedAt * 1_000_000).rounded()))" }
}

/// The lease as the database holds it (migration 9).
public struct LeaseRecord: Sendable, Equatable {
    public let spool: String
    public let holder: String
    public let term: Int
    /// Wall time, as the holder bound it when it last acquired or renewed.
    public let expiresAt: Double
    public let node: String
    public let host: String
    public let pid: Int
    public let startedAt: Double
    public let acquiredAt: Double

    /// Whether it still stands at `now` (wall): until then nobody else may take it.
    public func isValid(at now: Double) -> Bool { expiresAt >= now }
}

/// Thrown at the start of a fenced transaction (`LeaderFence`) whose node does not lead, or no
/// longer trusts its lease: the transaction is rolled back, nothing of it commits.
public struct Fenced: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    public var description: String { "fenced: this node does not lead the spool (\(reason))" }
}

/// The spool's lease (River's and Oban's leader election): one row per spool, renewed by its
/// holder at a third of its length with a conditional `UPDATE`, taken over by another node only
/// once it has expired, which increments its `term`.
///
/// Every statement here is plain SQL that PostgreSQL 15 runs as it is (`?` placeholders, `ON
/// CONFLICT ... DO NOTHING`, times bound as parameters, not read from the database's clock), so
/// the PostgreSQL store is a change of connection, not of this file. The one difference is the
/// fence's row lock (`LeaderFence.checkSQL`).
///
/// Times are the nodes' wall clocks: two hosts must agree (NTP) to well within a third of
/// `leader_lease_time`, the margin by which a leader stops trusting itself before its lease ends
/// on its own monotonic clock (`LeaderElection`).
public struct LeaderLease {
    public let database: Database
    /// The spool's key: its root directory, the same path on every node sharing it.
    public let spool: String

    public init(database: Database, spool: String) {
        self.database = database
        self.spool = spool
    }

    static let columns = "spool, holder, term, expires_at, node, host, pid, started_at, acquired_at"

    /// The lease as it stands, or nil when nobody has held it yet.
    public func current() throws -> LeaseRecord? {
        try database.queryOne("SELECT \(Self.columns) FROM leader_lease WHERE spool = ?", [.text(spool)]) { s in
            LeaseRecord(spool: s.text(0), holder: s.text(1), term: s.int(2), expiresAt: s.double(3), node: s.text(4),
                        host: s.text(5), pid: s.int(6), startedAt: s.double(7), acquiredAt: s.double(8))
        }
    }

    /// Takes the lease for `holder` until `now + leaseTime` when nobody holds it, when it has
    /// expired, when `holder` itself holds it (a node that stopped trusting its lease takes it
    /// again under a new term, which fences its own transactions of the old one), or when its
    /// holder is `replacing` (a process of this node known dead: its node's lock is ours). Each
    /// takeover increments the term. Returns the lease as it stands afterwards: `holder`'s if
    /// it was taken, else the other holder's.
    public func acquire(_ holder: LeaseHolder, now: Double, leaseTime: Double, replacing: String? = nil) throws -> LeaseRecord? {
        try database.transaction {
            try database.run("""
                INSERT INTO leader_lease(\(Self.columns)) VALUES(?, ?, 1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (spool) DO NOTHING
                """, [.text(spool), .text(holder.id), .double(now + leaseTime), .text(holder.node), .text(holder.host),
                      .int(holder.pid), .double(holder.startedAt), .double(now)])
            if database.changes == 0 {
                try database.run("""
                    UPDATE leader_lease SET holder = ?, term = term + 1, expires_at = ?, node = ?, host = ?, pid = ?,
                        started_at = ?, acquired_at = ?
                    WHERE spool = ? AND (expires_at < ? OR holder = ? OR holder = ?)
                    """, [.text(holder.id), .double(now + leaseTime), .text(holder.node), .text(holder.host),
                          .int(holder.pid), .double(holder.startedAt), .double(now), .text(spool), .double(now),
                          .text(holder.id), .text(replacing ?? holder.id)])
            }
            return try current()
        }
    }

    /// Extends `holder`'s lease of `term` to `now + leaseTime`, only if it still holds it and it
    /// has not expired (once expired, another node may have taken it: the holder must acquire
    /// again, under a new term). Returns whether it was renewed.
    public func renew(_ holder: LeaseHolder, term: Int, now: Double, leaseTime: Double) throws -> Bool {
        try database.transaction {
            try database.run("""
                UPDATE leader_lease SET expires_at = ?
                WHERE spool = ? AND holder = ? AND term = ? AND expires_at >= ?
                """, [.double(now + leaseTime), .text(spool), .text(holder.id), .int(term), .double(now)])
            return database.changes == 1
        }
    }

    /// Ends `holder`'s lease of `term` at `now` (a daemon stopping): another node takes over at
    /// its next look instead of waiting for the lease to run out. The term stays (the next
    /// holder increments it).
    public func release(_ holder: LeaseHolder, term: Int, now: Double) throws {
        try database.transaction {
            try database.run("UPDATE leader_lease SET expires_at = ? WHERE spool = ? AND holder = ? AND term = ? AND expires_at > ?",
                             [.double(now), .text(spool), .text(holder.id), .int(term), .double(now)])
        }
    }
}
