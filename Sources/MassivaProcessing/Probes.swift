import Dispatch
import MassivaConfig
import MassivaRegistry
import MassivaSystem
import Synchronization

/// `probe_command`, the DSO's own program asked whether a meter answers now (as Postfix's
/// `pipe(8)` runs a configured program): exit 0 reachable; 1 unreachable; 75 (EX_TEMPFAIL) the
/// back end itself is down; any other status, a signal, or a program that cannot be started is
/// the back end's failure too (logged with its output), so a broken script never spends the
/// SIs' attempts. Still running after `probe_timeout`: killed, and the meter counts as
/// unreachable. Its output (stdout and stderr, the first 2 KiB) goes to the log.
public struct CommandProbe: Sendable {
    public let template: CommandTemplate
    public let timeout: Double
    public let log: EventLog
    /// How much of a probe's output is kept for the log.
    public static let outputLimit = 2048

    public init(template: CommandTemplate, timeout: Double, log: EventLog) {
        self.template = template
        self.timeout = timeout
        self.log = log
    }

    /// The probe for a configuration, or nil when it sets no `probe_command`.
    public init?(_ configuration: Configuration, log: EventLog) {
        guard let template = configuration.probeCommand else { return nil }
        self.init(template: template, timeout: configuration.probeTimeout, log: log)
    }

    /// Runs the command for `target` and reads its answer. Blocks until it ends (or is killed).
    public func ask(_ target: ProbeTarget, cancellation: ChildProcess.Cancellation? = nil) -> ProbeAnswer {
        let arguments = template.arguments(["pod": target.pod, "tenant": target.tenant, "sid": target.sid,
                                            "request": target.request])
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(arguments, timeout: timeout, outputLimit: Self.outputLimit, cancellation: cancellation)
        } catch {
            log.log("probe_failed", ["pod": target.pod, "request": target.request, "error": "\(error)"])
            return .backEndDown("probe_command cannot be started: \(error)")
        }
        let output = outcome.outputText
        switch outcome.termination {
        case .exited(0), .exited(1):
            if !output.isEmpty {
                log.log("probe", ["pod": target.pod, "request": target.request,
                                  "status": outcome.termination == .exited(0) ? "0" : "1", "output": output])
            }
            return outcome.termination == .exited(0) ? .reachable : .unreachable
        case .exited(75):
            log.log("probe_tempfail", ["pod": target.pod, "request": target.request, "status": "75", "output": output])
            return .backEndDown("probe_command exited 75 (EX_TEMPFAIL): \(output)")
        case .exited(let status):
            log.log("probe_failed", ["pod": target.pod, "request": target.request, "status": String(status), "output": output])
            return .backEndDown("probe_command exited \(status): \(output)")
        case .signalled(let signal):
            log.log("probe_failed", ["pod": target.pod, "request": target.request, "signal": String(signal), "output": output])
            return .backEndDown("probe_command killed by signal \(signal)")
        case .timedOut:
            log.log("probe_timeout", ["pod": target.pod, "request": target.request,
                                      "timeout": DurationSyntax.format(timeout), "output": output])
            return .unreachable
        case .cancelled:
            return .cancelled
        }
    }

    /// A row processor's probe that runs the command there and then, in the caller's thread:
    /// for the single services (one probe each), not for bulk passes.
    public func synchronous(tenant: String, sid: String, request: String) -> RowProcessor.Probe {
        { pod in try Self.decide(ask(ProbeTarget(pod: pod, tenant: tenant, sid: sid, request: request)), pod: pod) }
    }

    /// An answer as check 15 takes it: true, false, or an error (an outage, or no answer).
    public static func decide(_ answer: ProbeAnswer?, pod: String) throws -> Bool {
        switch answer {
        case .reachable: return true
        case .unreachable: return false
        case .backEndDown(let message): throw RegistryError.unavailable(message)
        case .cancelled: throw ProbeNotAnswered(pod: pod, stopping: true)
        case nil: throw ProbeNotAnswered(pod: pod, stopping: false)
        }
    }
}

/// The probes of a chunk of requests, run in parallel, at most `concurrency` at once, in the
/// requests' order; each request's answers are taken by the engine (on its own queue) once all
/// of them are in, and its pass then runs as one all-or-nothing savepoint.
final class ProbeBatch: @unchecked Sendable {
    private struct State {
        var next = 0
        var inFlight = 0
        var answers: [[String: ProbeAnswer]]
        var remaining: [Int]
        var stopped = false
        var workers = 0
    }
    private let jobs: [(group: Int, target: ProbeTarget)]
    private let state: Mutex<State>
    private let progress = DispatchSemaphore(value: 0)
    private let probe: CommandProbe
    private let concurrency: Int
    private let cancellation = ChildProcess.Cancellation()

    init(groups: [[ProbeTarget]], probe: CommandProbe, concurrency: Int) {
        var jobs: [(group: Int, target: ProbeTarget)] = []
        for (group, targets) in groups.enumerated() {
            for target in targets { jobs.append((group, target)) }
        }
        self.jobs = jobs
        self.state = Mutex(State(answers: groups.map { _ in [:] }, remaining: groups.map(\.count)))
        self.probe = probe
        self.concurrency = max(1, concurrency)
    }

    /// Starts the workers: `concurrency` threads (fewer when there are fewer probes), each
    /// running one probe after the other, in the requests' order.
    func start() {
        for _ in 0..<min(concurrency, jobs.count) {
            do {
                try SystemThread.detach { [self] in work() }
            } catch {
                // No thread: the workers already started do the job, more slowly. None at all
                // (the first failed): run here, one at a time.
                if state.withLock({ $0.workers }) == 0 { work() }
                break
            }
            state.withLock { $0.workers += 1 }
        }
    }

    private func work() {
        while true {
            let job = state.withLock { s -> (group: Int, target: ProbeTarget)? in
                guard !s.stopped, s.next < jobs.count else { return nil }
                s.next += 1
                s.inFlight += 1
                return jobs[s.next - 1]
            }
            guard let job else { return }
            let answer = probe.ask(job.target, cancellation: cancellation)
            state.withLock { s in
                s.inFlight -= 1
                s.answers[job.group][job.target.pod] = answer
                s.remaining[job.group] -= 1
            }
            progress.signal()
        }
    }

    func isDone(group: Int) -> Bool {
        state.withLock { $0.remaining[group] == 0 }
    }

    /// Waits until every probe of `group` has answered. Returns false, having killed every probe
    /// still running, when `shouldStop` turns true meanwhile. Calls `heartbeat` about every
    /// quarter second while it waits (the daemon's watchdog: it is still the engine's queue).
    func wait(group: Int, shouldStop: () -> Bool, heartbeat: () -> Void) -> Bool {
        while !isDone(group: group) {
            if state.withLock({ $0.stopped }) { return false }
            if shouldStop() {
                cancel()
                return false
            }
            _ = progress.wait(timeout: .now() + .milliseconds(250))
            heartbeat()
        }
        return true
    }

    /// Check 15 for the rows of `group`, from its answers.
    func answers(group: Int) -> RowProcessor.Probe {
        let answers = state.withLock { $0.answers[group] }
        return { pod in try CommandProbe.decide(answers[pod], pod: pod) }
    }

    /// Starts no more probes and kills those running (their answers come back `cancelled`).
    func cancel() {
        state.withLock { $0.stopped = true }
        cancellation.cancel()
    }

    /// Waits for the probes still running after `cancel` to be reaped.
    func drain() {
        while state.withLock({ $0.inFlight > 0 }) {
            _ = progress.wait(timeout: .now() + .milliseconds(50))
        }
    }
}
