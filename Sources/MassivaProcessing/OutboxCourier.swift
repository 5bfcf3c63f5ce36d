import Dispatch
import MassivaConfig
import MassivaDatabase
import MassivaDomain
import MassivaStore
import MassivaSystem
import Synchronization

/// Hands the outbox's events to `association_command`, one at a time and in order, on a thread
/// of its own with its own database connection (the engine never waits for it).
///
/// An event leaves the outbox only once the command has exited 0 for it; any other end (a
/// status, a signal, `association_timeout`) leaves it at the head, tried again after
/// `association_minimal_backoff_time`, doubling up to `association_maximal_backoff_time`, with
/// the events behind it waiting (so a dissociation never reaches the DSO before its
/// association). Since an event is written in the association's own transaction and deleted
/// after its delivery, every event is delivered at least once whatever crashes, and exactly
/// once when nothing does (a crash between the command's exit and the deletion delivers it
/// again, with the same `${key}`).
public final class OutboxCourier: @unchecked Sendable {
    private let queue = DispatchQueue(label: "massiva.outbox")
    /// Owned by `queue`.
    private let outbox: Outbox
    private let template: CommandTemplate
    /// No delivery starts unless this node trusts its lease (a standby's events wait for the
    /// leader; a delivery cut off by a failover is made again by the next one, same key).
    private let fence: LeaderFence?
    private let timeout: Double
    private let backoff: Backoff
    private let log: EventLog
    private let clock: @Sendable () -> Double
    private let cancellation = ChildProcess.Cancellation()
    private let pending = CoalescingSignal()
    private struct Shared {
        var stopped = false
        var timer: DispatchSourceTimer?
    }
    private let shared = Mutex(Shared())
    /// How much of the command's output is kept for the log.
    static let outputLimit = 2048

    /// A courier for `configuration`'s `association_command`, on its own connection to the
    /// database at `database`; nil when no command is configured.
    public init?(configuration: Configuration, database location: DatabaseLocation, log: EventLog,
                 clock: @escaping @Sendable () -> Double, fence: LeaderFence? = nil) throws {
        guard let template = configuration.associationCommand else { return nil }
        self.template = template
        let database = try Schema.open(location)
        if let fence { fence.install(on: database) }
        self.fence = fence
        self.outbox = Outbox(database: database)
        self.timeout = configuration.associationTimeout
        self.backoff = Backoff(minimal: configuration.associationMinimalBackoffTime,
                               maximal: configuration.associationMaximalBackoffTime)
        self.log = log
        self.clock = clock
    }

    /// Asks for a delivery round soon, on the courier's thread; cheap to call often.
    public func schedule() {
        // A round asked for as `stop` begins finds it stopped, and neither delivers nor arms.
        guard !isStopped else { return }
        pending.schedule(on: queue) { [self] in arm(deliverDue()) }
    }

    /// Delivers every due event now, in the calling thread's time (`serve --once`), after
    /// whatever round is under way. Returns when the head is due again, nil when none waits.
    @discardableResult
    public func deliverNow() -> Double? {
        queue.sync { deliverDue() }
    }

    /// Stops: no more rounds; a delivery under way may finish for `grace` seconds, then its
    /// command is killed (its event stays, delivered again at the next start).
    public func stop(grace: Double) {
        let timer = shared.withLock { s -> DispatchSourceTimer? in
            s.stopped = true
            defer { s.timer = nil }
            return s.timer
        }
        timer?.cancel()
        if grace.isInfinite {
            queue.sync {}
            return
        }
        let idle = DispatchSemaphore(value: 0)
        queue.async { idle.signal() }
        if idle.wait(timeout: .now() + grace) == .timedOut {
            cancellation.cancel()
            queue.sync {}
        }
    }

    private var isStopped: Bool { shared.withLock { $0.stopped } }

    /// On `queue`: the events due, in order, until the outbox is empty, its head is not due or
    /// fails. Returns when to look again.
    private func deliverDue() -> Double? {
        while !isStopped {
            let head: OutboxEvent?
            do {
                head = try outbox.head()
            } catch {
                log.log("outbox_failed", ["error": "\(error)", "retry_in": "5s"])
                return clock() + 5
            }
            guard let event = head else { return nil }
            // Not leading now: nothing is delivered; the daemon schedules a round again when it
            // leads (its passes do).
            if let fence, !fence.isTrusted { return nil }
            let now = clock()
            if event.nextAttemptAt > now { return event.nextAttemptAt }
            guard deliver(event) else {
                return isStopped ? nil : ((try? outbox.head())?.nextAttemptAt ?? clock() + backoff.minimal)
            }
        }
        return nil
    }

    /// Runs the command for one event; records the result. True when delivered.
    private func deliver(_ event: OutboxEvent) -> Bool {
        let arguments = template.arguments([
            "event": event.kind.rawValue, "pod": event.pod, "sid": event.sid, "nid": event.nid, "tenant": event.tenant,
            "request": event.request ?? "", "key": event.key, "event_id": event.key,
        ])
        let problem: String
        var output = ""
        do {
            let outcome = try ChildProcess.run(arguments, timeout: timeout, outputLimit: Self.outputLimit,
                                               cancellation: cancellation)
            output = outcome.outputText
            switch outcome.termination {
            case .exited(0):
                do {
                    try outbox.delivered(event.id)
                } catch {
                    // Delivered but not recorded: it goes again (at least once), same key.
                    log.log("outbox_failed", ["key": event.key, "error": "\(error)"])
                    return false
                }
                if output.isEmpty {
                    log.log("association_delivered", ["key": event.key, "event": event.kind.rawValue, "pod": event.pod,
                                                      "sid": event.sid, "tenant": event.tenant])
                } else {
                    log.log("association_delivered", ["key": event.key, "event": event.kind.rawValue, "pod": event.pod,
                                                      "sid": event.sid, "tenant": event.tenant, "output": output])
                }
                return true
            case .exited(let status): problem = "exited \(status)"
            case .signalled(let signal): problem = "killed by signal \(signal)"
            case .timedOut: problem = "still running after \(DurationSyntax.format(timeout)): killed"
            case .cancelled: return false  // stopping: the event stays as it was
            }
        } catch {
            problem = "cannot be started: \(error)"
        }
        let delay = backoff.delay(afterAttempt: event.attempts + 1)
        log.log("association_deferred", ["key": event.key, "event": event.kind.rawValue, "pod": event.pod,
                                         "attempts": String(event.attempts + 1), "error": problem, "output": output,
                                         "retry_in": "\(Int(delay.rounded(.up)))s"])
        do {
            try outbox.failed(event.id, error: problem + (output.isEmpty ? "" : ": " + output), nextAttemptAt: clock() + delay)
        } catch {
            log.log("outbox_failed", ["key": event.key, "error": "\(error)"])
        }
        return false
    }

    /// On `queue`: a timer for the next due event.
    private func arm(_ at: Double?) {
        shared.withLock { s in
            s.timer?.cancel()
            s.timer = nil
            guard let at, !s.stopped else { return }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + max(0.005, at - clock()), leeway: .milliseconds(20))
            timer.setEventHandler { [weak self] in
                guard let self else { return }
                self.arm(self.deliverDue())
            }
            timer.resume()
            s.timer = timer
        }
    }
}
