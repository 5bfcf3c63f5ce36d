import Dispatch
import MassivaDomain
import MassivaRegistry
import MassivaStore
import MassivaSystem
import Synchronization

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

    /// Plans the probes of `ids` at `now` (`plan`, a read of the registry, in one read
    /// transaction) and starts them.
    static func start(_ ids: [RequestID], at now: Double, store: StateStore, probe: CommandProbe, concurrency: Int,
                      plan: (RequestID, Double) throws -> [ProbeTarget]) throws -> ProbeBatch {
        var groups: [[ProbeTarget]] = []
        try store.readTransaction {
            for id in ids {
                // A request that cannot be planned (a record that does not decode, a registry
                // error) gets no probes: its pass meets the same error and deals with it.
                groups.append((try? plan(id, now)) ?? [])
            }
        }
        let batch = ProbeBatch(groups: groups, probe: probe, concurrency: concurrency)
        batch.start()
        return batch
    }

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
