import Dispatch
import MassivaRegistry
import MassivaSystem
import Synchronization

/// The probes of the requests a pass is working on, run in parallel: at most `concurrency` at
/// once, the slots shared between tenants by a `FairProbeScheduler`.
///
/// Requests join while it runs (`add`): a request recorded while another tenant's backlog is
/// being probed gets the next free slot. Each request is an item; once every probe of an item
/// has answered it is ready (`takeReady`, in the order they became ready), and the engine runs
/// its pass, on its own queue, as one all-or-nothing savepoint, whatever became of the items
/// added before it.
final class FairProbeBatch: @unchecked Sendable {
    struct Job {
        var item: Int
        var target: ProbeTarget
    }
    private struct Item {
        var tenant: String
        var remaining: Int
        var answers: [String: ProbeAnswer] = [:]
    }
    private struct State {
        var scheduler: FairProbeScheduler<Job>
        var items: [Int: Item] = [:]
        var ready: [Int] = []
        var nextItem = 0
        var workers = 0
        var inFlight = 0
        var stopped = false
        /// While requests are being added together (`adding`): no probe starts, so the first
        /// slots go by the scheduler's turns over all of them, not to whichever came first.
        var held = false
    }
    private let state: Mutex<State>
    private let progress = DispatchSemaphore(value: 0)
    private let probe: CommandProbe
    let concurrency: Int
    private let cancellation = ChildProcess.Cancellation()

    init(probe: CommandProbe, concurrency: Int, tenantConcurrency: Int) {
        self.probe = probe
        self.concurrency = max(1, concurrency)
        self.state = Mutex(State(scheduler: FairProbeScheduler(tenantLimit: min(max(1, tenantConcurrency), max(1, concurrency)))))
    }

    /// Adds one request's probes, after those of its tenant already waiting; returns the
    /// request's item. An item without probes is ready at once.
    func add(tenant: String, targets: [ProbeTarget]) -> Int {
        let (item, spawn) = state.withLock { s -> (Int, Int) in
            let item = s.nextItem
            s.nextItem += 1
            s.items[item] = Item(tenant: tenant, remaining: targets.count)
            if targets.isEmpty { s.ready.append(item) }
            for target in targets { s.scheduler.enqueue(Job(item: item, target: target), tenant: tenant) }
            return (item, s.held ? 0 : Self.workersWanted(&s, concurrency: concurrency))
        }
        spawnWorkers(spawn)
        if targets.isEmpty { progress.signal() }
        return item
    }

    /// Runs `body` (which adds requests) with no probe starting meanwhile, then starts the
    /// workers the waiting probes want. Measured in the fairness test under load: added one by
    /// one, a tenant's first request took both slots before the other tenant's was added.
    func adding<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.held = true }
        defer {
            let spawn = state.withLock { s -> Int in
                s.held = false
                return Self.workersWanted(&s, concurrency: concurrency)
            }
            spawnWorkers(spawn)
        }
        return try body()
    }

    /// Workers come and go with the work: one per probe waiting, up to `concurrency`; how many
    /// more to start (counted as started).
    private static func workersWanted(_ s: inout State, concurrency: Int) -> Int {
        guard !s.stopped else { return 0 }
        let spawn = max(0, min(concurrency - s.workers, s.scheduler.waiting))
        s.workers += spawn
        return spawn
    }

    private func spawnWorkers(_ spawn: Int) {
        for started in 0..<spawn {
            do {
                try SystemThread.detach { [self] in work() }
            } catch {
                // No thread: the workers running do the job, more slowly. None at all: run the
                // probes here, one at a time.
                let left = state.withLock { s in
                    s.workers -= spawn - started
                    return s.workers
                }
                if left == 0 {
                    state.withLock { $0.workers += 1 }
                    work()
                }
                break
            }
        }
    }

    private func work() {
        while true {
            let next = state.withLock { s -> Job? in
                guard !s.stopped, !s.held, let (_, job) = s.scheduler.next() else {
                    s.workers -= 1
                    return nil
                }
                s.inFlight += 1
                return job
            }
            guard let job = next else { return }
            let answer = probe.ask(job.target, cancellation: cancellation)
            state.withLock { s in
                s.inFlight -= 1
                s.scheduler.finished(tenant: job.target.tenant)
                s.items[job.item]?.answers[job.target.pod] = answer
                s.items[job.item]?.remaining -= 1
                if s.items[job.item]?.remaining == 0 { s.ready.append(job.item) }
            }
            progress.signal()
        }
    }

    /// Up to `limit` items whose probes have all answered, in the order they became ready;
    /// each is taken once.
    func takeReady(limit: Int) -> [Int] {
        state.withLock { s in
            let taken = Array(s.ready.prefix(limit))
            s.ready.removeFirst(taken.count)
            return taken
        }
    }

    /// Check 15 for the rows of a ready `item`, from its answers; the item leaves the batch.
    func answers(item: Int) -> RowProcessor.Probe {
        let answers = state.withLock { $0.items.removeValue(forKey: item)?.answers ?? [:] }
        return { pod in try CommandProbe.decide(answers[pod], pod: pod) }
    }

    /// The items not yet taken by `answers` (waiting for probes, or ready).
    var itemCount: Int { state.withLock { $0.items.count } }

    /// `tenant`'s probes not started yet.
    func waiting(tenant: String) -> Int { state.withLock { $0.scheduler.waiting(tenant: tenant) } }

    /// Waits until a probe answers (or an item without probes is added), at most `timeout`
    /// seconds. Returns whether one did.
    @discardableResult
    func waitForProgress(timeout: Double) -> Bool {
        progress.wait(timeout: .now() + .milliseconds(Int(timeout * 1000))) == .success
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
