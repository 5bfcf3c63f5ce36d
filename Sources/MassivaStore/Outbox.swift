import MassivaDatabase
import MassivaDomain

/// One association made or removed, waiting to be handed to `association_command`.
public struct OutboxEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case associated, dissociated
    }

    public var id: Int
    public var kind: Kind
    public var pod: String
    public var sid: String
    public var nid: String
    public var tenant: String
    /// The bulk request's id; nil for `associate` and `dissociate`.
    public var request: String?
    public var createdAt: Double
    /// Failed deliveries so far.
    public var attempts: Int
    public var nextAttemptAt: Double
    public var lastError: String?

    /// The event's stable unique key (`${key}`), for the receiver's idempotency: the same for
    /// every delivery of this event, never another event's (the outbox's ids are never reused,
    /// and the creation time tells apart two spools' events of the same id).
    public var key: String {
        "\(Int64((createdAt * 1_000_000).rounded()))-\(id)"
    }
}

/// The outbox of association events (migration 4): written in the transaction that makes or
/// removes the association, so an association and its event commit together or not at all;
/// taken out by the courier only once the command has exited 0 (at least once, in order).
public struct Outbox {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Records an event for `association`, in the caller's transaction.
    public func enqueue(_ kind: OutboxEvent.Kind, _ association: Association, now: Double) throws {
        try database.run("""
            INSERT INTO outbox(event, pod, sid, nid, tenant, request, created_at, next_attempt_at)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(kind.rawValue), .text(association.pod), .text(association.sid), .text(association.nid),
                  .text(association.tenant), SQLValue(association.request), .double(now), .double(now)])
    }

    static let columns = "id, event, pod, sid, nid, tenant, request, created_at, attempts, next_attempt_at, last_error"

    static func event(_ s: Statement) throws(RecordError) -> OutboxEvent {
        guard let kind = OutboxEvent.Kind(rawValue: s.text("event")) else {
            throw RecordError(table: "outbox", key: String(s.int("id")), column: "event", value: s.text("event"))
        }
        return OutboxEvent(id: s.int("id"), kind: kind, pod: s.text("pod"), sid: s.text("sid"), nid: s.text("nid"),
                           tenant: s.text("tenant"), request: s.optionalText("request"), createdAt: s.double("created_at"),
                           attempts: s.int("attempts"), nextAttemptAt: s.double("next_attempt_at"),
                           lastError: s.optionalText("last_error"))
    }

    /// The oldest event: the only one that may be delivered next (events go out in order, so a
    /// dissociation never overtakes its association).
    public func head() throws -> OutboxEvent? {
        try database.queryOne("SELECT \(Self.columns) FROM outbox ORDER BY id LIMIT 1", [], Self.event)
    }

    /// The command took the event: it goes.
    public func delivered(_ id: Int) throws {
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            try database.run("DELETE FROM outbox WHERE id = ?", [.int(id)])
        }
    }

    /// The command failed: tried again at `nextAttemptAt`.
    public func failed(_ id: Int, error: String, nextAttemptAt: Double) throws {
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            try database.run("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                             [.double(nextAttemptAt), .text(error), .int(id)])
        }
    }

    /// How many events wait, and the oldest of them (`massiva status`).
    public func figures() throws -> (depth: Int, oldest: OutboxEvent?) {
        let depth = try database.queryOne("SELECT count(*) FROM outbox", []) { $0.int(0) } ?? 0
        return (depth, try head())
    }
}
