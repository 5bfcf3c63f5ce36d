import MassivaDatabase
import Dispatch
import MassivaConfig
import MassivaDomain
import MassivaStore
import MassivaSystem
import Synchronization

/// Keeps this node's side of the spool's lease: asks for it, renews it, watches it, on a queue
/// and a database connection of its own, so a long pass of the engine (a round of probes) never
/// delays a renewal. Its decisions are `LeaderElection`'s; it carries them out: the store's
/// `LeaderLease` is asked, the `LeaderFence` the engine's connections check is moved, and every
/// change of role is logged (`leader` with the term, `standby` with the reason) and handed to
/// `onChange` (the daemon starts or stops working).
///
/// Its timer is the clock's (`Clock.after`): a test's fake clock drives it step by step.
public final class LeaseKeeper: @unchecked Sendable {
    public let holder: LeaseHolder
    public let fence: LeaderFence
    private let lease: LeaderLease
    private let clock: Clock
    private let log: EventLog
    private let queue = DispatchQueue(label: "massiva.lease")
    /// Owned by `queue`.
    private var election: LeaderElection
    /// When the last step was sent (monotonic); owned by `queue`.
    private var lastSentAt: Double?
    private let shared = Mutex<(state: LeaderElection.State, seen: LeaseRecord?)>((.starting, nil))
    /// Called on the keeper's queue after each change of role.
    public var onChange: @Sendable (LeaderElection.Transition) -> Void = { _ in }

    /// A keeper for `holder` on its own connection to the database at `database`. The
    /// caller holds the lock of `holder.node` on this host (see `deadHolderOfThisNode`).
    public init(database location: DatabaseLocation, spool: String, holder: LeaseHolder, leaseTime: Double, clock: Clock, log: EventLog) throws {
        let database = try Schema.open(location)
        lease = LeaderLease(database: database, spool: spool)
        self.holder = holder
        self.clock = clock
        self.log = log
        self.leaseTime = leaseTime
        election = LeaderElection(leaseTime: leaseTime)
        fence = LeaderFence(spool: spool, holder: holder, monotonic: clock.readMonotonic, idleTransactionLimit: leaseTime)
    }

    /// `leader_lease_time`.
    public let leaseTime: Double

    /// The node's state as last decided.
    public var state: LeaderElection.State { shared.withLock { $0.state } }
    /// The lease as last read (after an acquire: who holds it).
    public var lastSeen: LeaseRecord? { shared.withLock { $0.seen } }

    /// Asks for the lease now (unless `stepNow` already did), then looks again at the
    /// election's pace.
    public func start() {
        queue.async { [self] in
            if let lastSentAt { schedule(after: lastSentAt) } else { step() }
        }
    }

    /// One step now, on the caller's thread (`serve --once` waits for its answer).
    public func stepNow() {
        queue.sync { step(reschedule: false) }
    }

    /// Stops: a leader's lease is released (another node takes over at its next look), and
    /// nothing more is asked.
    public func stop() {
        queue.sync {
            fence.standBy()
            if let term = election.term {
                do {
                    try lease.release(holder, term: term, now: clock.now)
                } catch {
                    log.log("lease_release_failed", ["error": "\(error)", "term": String(term)])
                }
            }
            if let transition = election.stop() { announce(transition) }
            publish()
        }
    }

    private func step(reschedule: Bool = true) {
        guard let step = election.nextStep else { return }
        let sentAt = clock.monotonic
        lastSentAt = sentAt
        let now = clock.now
        var answer = LeaderElection.Answer.failed
        var seen: LeaseRecord?
        do {
            switch step {
            case .acquire:
                let current = try lease.current()
                seen = try lease.acquire(holder, now: now, leaseTime: election.leaseTime,
                                         replacing: current.flatMap(deadHolderOfThisNode))
                answer = seen?.holder == holder.id ? .held(term: seen!.term) : .refused
            case .renew(let term):
                answer = try lease.renew(holder, term: term, now: now, leaseTime: election.leaseTime) ? .held(term: term) : .refused
                seen = try? lease.current()
            }
        } catch {
            log.log("lease_unavailable", ["error": "\(error)", "role": election.term == nil ? "standby" : "leader"])
        }
        let transition = election.record(answer, to: step, sentAt: sentAt, now: clock.monotonic)
        if let transition { announce(transition, seen: seen) }
        move(seen: seen)
        if reschedule { schedule(after: sentAt) }
    }

    /// The next look, a check interval after `sentAt` (sooner when a leader's trust ends first).
    private func schedule(after sentAt: Double) {
        guard election.nextStep != nil else { return }
        let delay = election.nextCheck(after: sentAt) - clock.monotonic
        clock.after(max(0, delay), on: queue) { [weak self] in self?.wake() }
    }

    /// The timer: a leader whose trust ran out steps down first (without waiting for the
    /// database, which may be what hangs), then the next step.
    private func wake() {
        if let transition = election.tick(now: clock.monotonic) {
            announce(transition)
            move(seen: nil)
        }
        step()
    }

    /// Moves the fence to the election's state, and publishes it.
    private func move(seen: LeaseRecord?) {
        if case .leader(let term, let until) = election.state {
            fence.lead(term: term, trustedUntil: until)
        } else {
            fence.standBy()
        }
        shared.withLock { s in
            s.state = election.state
            if let seen { s.seen = seen }
        }
    }

    private func publish() {
        shared.withLock { $0.state = election.state }
    }

    private func announce(_ transition: LeaderElection.Transition, seen: LeaseRecord? = nil) {
        switch transition {
        case .becameLeader(let term):
            log.log("leader", ["term": String(term), "node": holder.node, "host": holder.host, "pid": String(holder.pid),
                               "lease_time": DurationSyntax.format(election.leaseTime)])
        case .becameStandby(let reason):
            // Before any of the engine's work stops: the fence is moved right after.
            fence.standBy()
            var fields: KeyValuePairs<String, String> = ["reason": reason.rawValue, "node": holder.node]
            if let seen, seen.holder != holder.id {
                fields = ["reason": reason.rawValue, "node": holder.node, "leader_node": seen.node,
                          "leader_host": seen.host, "leader_pid": String(seen.pid), "term": String(seen.term)]
            }
            log.log("standby", fields)
        }
        onChange(transition)
    }

    /// The holder of `record` when it is another process of this node on this host: one that
    /// is gone (a daemon killed and started again), since this process holds the node's lock
    /// (`SpoolLayout.lockPath(node:host:)`, the same file for every daemon of one node name on one
    /// host), so its lease is taken at once rather than after it expires. (Not `kill(pid, 0)`:
    /// a killed daemon can stay a zombie where nothing reaps it, a container's pid 1.)
    private func deadHolderOfThisNode(_ record: LeaseRecord) -> String? {
        guard record.holder != holder.id, record.node == holder.node, record.host == holder.host else { return nil }
        return record.holder
    }
}

