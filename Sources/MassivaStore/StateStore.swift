import MassivaDatabase

/// The engine's own state in SQLite: tenants, requests (with the uploaded bytes), rows.
///
/// Every change that moves a request along happens in one transaction and bumps the request's
/// `state_version`; result files are refreshed from this state until `results_version` catches
/// up, so a crash between a commit and the file writes is repaired by the next pass.
public final class StateStore: @unchecked Sendable {
    /// The connection. Only MassivaStore reaches it: every other module goes through the
    /// store's methods and its `transaction`/`readTransaction`, so all SQL has one owner.
    package let database: Database

    /// Takes a connection to the spool's database and brings its schema up to date (a no-op,
    /// one `PRAGMA user_version`, when `Schema.open` already did).
    public init(database: Database) throws {
        self.database = database
        try Schema.migrate(database)
    }

    /// Throws `SchemaError.newerThanBinary` when a newer massiva has migrated the database since
    /// this store opened it (`Schema.ensureKnown`): the daemon asks before every pass.
    public func checkSchema() throws {
        try Schema.ensureKnown(database)
    }

    // MARK: Transactions

    /// Runs `body` in one write transaction (a savepoint when nested): all of it commits, or
    /// none of it. The one way a module outside MassivaStore groups changes.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.transaction(body)
    }

    /// Runs `body` in one read transaction: every read in it sees the same snapshot.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try database.readTransaction(body)
    }

    /// Runs `body` with its commits flushed to the disk before they return (the claim of an
    /// upload, whose file is removed after the commit).
    public func durably<T>(_ body: () throws -> T) throws -> T {
        try database.withFullSync(body)
    }

    /// Where the database is: the other threads (results, lists, courier, metrics) open
    /// connections of their own to it.
    public var databaseLocation: DatabaseLocation { database.location }

    /// The audit trail on this store's connection.
    public func auditTrail() -> AuditTrail { AuditTrail(database: database) }

    /// The outbox of association events on this store's connection.
    public func outbox() -> Outbox { Outbox(database: database) }

    /// Fences every write transaction on this store's connection (the engine's, on a daemon
    /// that leads the spool): each begins with `fence.check`, and a write outside a transaction
    /// is refused.
    public func install(_ fence: LeaderFence) { fence.install(on: database) }

    /// The spool's lease on this store's connection (`massiva status`).
    public func leaderLease(spool: String) -> LeaderLease { LeaderLease(database: database, spool: spool) }

    /// The metrics' counters on this store's connection.
    public func metricsStore() -> MetricsStore { MetricsStore(database: database) }
}
