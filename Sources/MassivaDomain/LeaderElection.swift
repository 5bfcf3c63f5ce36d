/// One node's decisions about leading a spool, as a pure state machine: what to ask the lease
/// next, what an answer makes of the node, and whether it may work now. No clock of its own and
/// no database: the caller (the daemon's `LeaseKeeper`) passes the monotonic times and the
/// answers, and tests drive it with a fake clock.
///
/// The rules (River's and Oban's, with the fencing term of issue 21):
/// - a standby asks for the lease every `checkInterval` (a third of `leaseTime`); it gets it
///   only once its holder's lease has expired, under the next term;
/// - a leader renews every `checkInterval`; it trusts its lease until `margin` before it would
///   end, counted on its own monotonic clock from the moment the renewal was sent (not from its
///   answer: a slow answer shortens the trust, never lengthens it). `margin` (a third of the
///   lease) covers the difference between two hosts' wall clocks, in which the lease's end is
///   stored, and the time a takeover needs to be seen;
/// - a leader that cannot renew (the database is away, or answers an error) keeps working only
///   until then, then steps down (`lapsed`); one whose lease was taken (`lost`) steps down at
///   once.
public struct LeaderElection: Sendable, Equatable {
    /// The node's state.
    public enum State: Sendable, Equatable {
        /// Not asked yet.
        case starting
        /// Another node leads, or the lease could not be asked for: waiting.
        case standby
        /// This node leads under `term`, and trusts it until `trustedUntil` (monotonic).
        case leader(term: Int, trustedUntil: Double)
        /// Stopping: asks nothing more.
        case stopped
    }

    /// What to ask the lease's store next.
    public enum Step: Sendable, Equatable {
        case acquire
        case renew(term: Int)
    }

    /// What the store answered to a step.
    public enum Answer: Sendable, Equatable {
        /// The lease is this node's, under `term` (an acquire that took it, or a renewal).
        case held(term: Int)
        /// Another holder has it, valid (an acquire refused), or a renewal found it gone.
        case refused
        /// The store could not be asked (an error): nothing is known.
        case failed
    }

    /// Why a node stands by.
    public enum StandbyReason: String, Sendable, Equatable {
        case anotherLeads = "another node holds the lease"
        case unreachable = "the lease could not be read"
        case lost = "another node took the lease over"
        case lapsed = "the lease could not be renewed in time"
        case stopping = "stopping"
    }

    /// A change of role, for the log and the daemon.
    public enum Transition: Sendable, Equatable {
        case becameLeader(term: Int)
        case becameStandby(StandbyReason)
    }

    public let leaseTime: Double
    public private(set) var state: State = .starting

    public init(leaseTime: Double) {
        self.leaseTime = leaseTime
    }

    /// How often the lease is renewed (leader) or looked at (standby).
    public var checkInterval: Double { leaseTime / 3 }
    /// How long before its lease's end a leader stops trusting it.
    public var margin: Double { leaseTime / 3 }

    /// What to ask next; nil once stopped.
    public var nextStep: Step? {
        switch state {
        case .starting, .standby: return .acquire
        case .leader(let term, _): return .renew(term: term)
        case .stopped: return nil
        }
    }

    /// Whether this node may work (claim, probe, deliver, commit) at `now` (monotonic).
    public func mayWork(at now: Double) -> Bool {
        if case .leader(_, let until) = state { return now < until }
        return false
    }

    /// The term this node leads under, trusted or not yet stepped down.
    public var term: Int? {
        if case .leader(let term, _) = state { return term }
        return nil
    }

    /// When to look again after a step at `now`: a check interval on, or sooner when a leader's
    /// trust ends before that (so it steps down in time, `tick`).
    public func nextCheck(after now: Double) -> Double {
        let next = now + checkInterval
        if case .leader(_, let until) = state, until > now { return min(next, until) }
        return next
    }

    /// The answer to `step`, sent at `sentAt` and come back at `now` (both monotonic).
    public mutating func record(_ answer: Answer, to step: Step, sentAt: Double, now: Double) -> Transition? {
        if state == .stopped { return nil }
        let trustedUntil = sentAt + leaseTime - margin
        switch (step, answer) {
        case (.acquire, .held(let term)):
            let was = self.term
            state = .leader(term: term, trustedUntil: trustedUntil)
            return tick(now: now) ?? (was == term ? nil : .becameLeader(term: term))
        case (.acquire, .refused):
            return standBy(.anotherLeads)
        case (.acquire, .failed):
            return standBy(.unreachable)
        case (.renew(let renewed), .held):
            // Only the term it renewed: a stale answer after a step down is not a lease.
            guard case .leader(let term, _) = state, term == renewed else { return nil }
            state = .leader(term: term, trustedUntil: max(trustedUntil, until ?? trustedUntil))
            return tick(now: now)
        case (.renew(let renewed), .refused):
            guard self.term == renewed else { return nil }
            return standBy(.lost)
        case (.renew, .failed):
            // Nothing known: it goes on trusting its lease until it would lapse.
            return tick(now: now)
        }
    }

    /// Time passing: a leader whose trust has run out at `now` (monotonic) steps down.
    public mutating func tick(now: Double) -> Transition? {
        if case .leader(_, let until) = state, now >= until { return standBy(.lapsed) }
        return nil
    }

    /// Stopping: a leader stands down (the caller releases the lease first); nothing more is asked.
    public mutating func stop() -> Transition? {
        let wasLeader = term != nil
        state = .stopped
        return wasLeader ? .becameStandby(.stopping) : nil
    }

    private var until: Double? {
        if case .leader(_, let until) = state { return until }
        return nil
    }

    private mutating func standBy(_ reason: StandbyReason) -> Transition? {
        let was = state
        state = .standby
        switch was {
        case .leader: return .becameStandby(reason)
        case .starting: return .becameStandby(reason)
        case .standby, .stopped: return nil
        }
    }
}
