import MassivaDomain

/// Whether the engine asks the registry now: after a request meets a registry outage, no request
/// is processed until the outage backoff (`outage_minimal_backoff_time`, doubling up to
/// `outage_maximal_backoff_time`) has passed, and no attempt is spent meanwhile.
///
/// A value with no clock and no side effects: the engine feeds it what the registry did and
/// acts on what it returns (the log line, the outage's record in the metrics), so a test can
/// walk it through outages directly.
public struct OutageGate: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// No request has reached the registry yet: an outage recorded before this engine (a
        /// restart, a reload) may still be open, and the first answer closes it.
        case mayBeOpen
        /// The registry answered the last request that asked it.
        case available
        /// `outages` requests in a row met an outage; none is processed before `until`.
        case down(outages: Int, until: Double)
    }

    public private(set) var state: State
    public let backoff: Backoff

    public init(backoff: Backoff, state: State = .mayBeOpen) {
        self.backoff = backoff
        self.state = state
    }

    /// When the registry may be asked again; nil when it may be now.
    public var pausedUntil: Double? {
        if case .down(_, let until) = state { return until }
        return nil
    }

    /// Whether requests may be processed at `now`.
    public func isOpen(at now: Double) -> Bool {
        guard let until = pausedUntil else { return true }
        return now >= until
    }

    /// What an answer from the registry ended.
    public enum Closed: Sendable, Equatable {
        /// An outage that may have been open (one recorded before this engine): recorded as
        /// ended, nothing to log.
        case previous
        /// An outage this engine saw, after `outages` requests met it.
        case outage(outages: Int)
    }

    /// A request's pass reached the registry and got its answers. Returns the outage that
    /// ended, if any.
    public mutating func answered() -> Closed? {
        switch state {
        case .available: return nil
        case .mayBeOpen:
            state = .available
            return .previous
        case .down(let outages, _):
            state = .available
            return .outage(outages: outages)
        }
    }

    /// What a failure did: the outages in a row so far (1: an outage starts) and the delay
    /// before the registry is asked again.
    public struct Failure: Sendable, Equatable {
        public var outages: Int
        public var delay: Double
        public var started: Bool { outages == 1 }
    }

    /// A request met a registry outage at `now`: the gate closes for the backoff's next delay.
    public mutating func failed(now: Double) -> Failure {
        var outages = 1
        if case .down(let before, _) = state { outages = before + 1 }
        let delay = backoff.delay(afterAttempt: outages)
        state = .down(outages: outages, until: now + delay)
        return Failure(outages: outages, delay: delay)
    }
}
