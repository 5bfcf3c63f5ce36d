/// One question to the telemanagement head-end: does the meter of `pod` answer now? With the
/// row it is asked for (the probe command's `${tenant}`, `${sid}`, `${request}`).
public struct ProbeTarget: Sendable, Hashable {
    public var pod: String
    public var tenant: String
    public var sid: String
    /// The request id; empty for the single services (`associate`, `search`).
    public var request: String

    public init(pod: String, tenant: String, sid: String, request: String) {
        self.pod = pod
        self.tenant = tenant
        self.sid = sid
        self.request = request
    }
}

/// What a probe found.
public enum ProbeAnswer: Sendable, Equatable {
    /// The meter answers (exit 0).
    case reachable
    /// The meter does not answer (exit 1, or still running at `probe_timeout`): the row spends
    /// an attempt and waits for a retry.
    case unreachable
    /// The back end itself is down (exit 75), or the probe failed some other way (another
    /// status, a signal, not startable): a registry outage, no attempt spent.
    case backEndDown(String)
    /// Not asked or not finished because the daemon is stopping: the row is tried again later,
    /// no attempt spent.
    case cancelled
}

/// Why a row's pass stopped without an answer it needs: the daemon is stopping, or the row
/// reached its probe only in the pass (the registry changed since the probes were planned).
/// The request's pass is undone, nothing spent; the next pass does it again.
public struct ProbeNotAnswered: Error, Sendable, CustomStringConvertible {
    public let pod: String
    public let stopping: Bool
    public init(pod: String, stopping: Bool) {
        self.pod = pod
        self.stopping = stopping
    }
    public var description: String { stopping ? "probe of \(pod) cancelled" : "probe of \(pod) not planned" }
}
