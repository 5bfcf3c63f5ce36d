/// Which probe starts next when a slot frees: Postfix's queue manager for meters.
///
/// Each tenant has its own queue of probes, in the order they were added; the tenants are served
/// round-robin, one probe each in turn, and a tenant with `tenantLimit` probes running is
/// passed over while another tenant has a probe waiting. A slot is never held back: when every
/// tenant with a probe waiting is at its limit (a tenant alone, say), the turn's tenant takes
/// it all the same. So SI beta's one probe waits for the first slot to free, not for SI
/// alfa's thousand (issue 19), and alfa alone still runs `probe_concurrency` at once.
///
/// Pure logic, no threads: `FairProbeBatch` drives it under its lock, and a test drives it
/// directly.
public struct FairProbeScheduler<Job> {
    /// The most probes of one tenant running at once while another tenant's wait.
    public let tenantLimit: Int
    /// Tenants in the order they first had a probe: the round-robin's circle.
    private var circle: [String] = []
    private var queues: [String: TenantQueue] = [:]
    /// Where the next turn starts in `circle`.
    private var turn = 0

    private struct TenantQueue {
        var jobs: [Job] = []
        var head = 0
        var running = 0
        var waiting: Int { jobs.count - head }
    }

    public init(tenantLimit: Int) {
        self.tenantLimit = max(1, tenantLimit)
    }

    /// Adds a probe at the end of `tenant`'s queue.
    public mutating func enqueue(_ job: Job, tenant: String) {
        if queues[tenant] == nil {
            circle.append(tenant)
            queues[tenant] = TenantQueue()
        }
        queues[tenant]!.jobs.append(job)
    }

    /// The probe to start in a free slot (counted as running until `finished`), or nil when
    /// none waits.
    public mutating func next() -> (tenant: String, job: Job)? {
        guard !circle.isEmpty else { return nil }
        // First a tenant under its limit, from the turn on; else, rather than leave the slot
        // idle, the first tenant with a probe waiting.
        for underLimitOnly in [true, false] {
            for step in 0..<circle.count {
                let index = (turn + step) % circle.count
                let tenant = circle[index]
                guard let queue = queues[tenant], queue.waiting > 0,
                      !underLimitOnly || queue.running < tenantLimit else { continue }
                turn = (index + 1) % circle.count
                return (tenant, take(tenant))
            }
        }
        return nil
    }

    private mutating func take(_ tenant: String) -> Job {
        var queue = queues.removeValue(forKey: tenant)!  // unique: the array is not copied
        let job = queue.jobs[queue.head]
        queue.head += 1
        queue.running += 1
        if queue.head == queue.jobs.count {
            queue.jobs.removeAll(keepingCapacity: true)
            queue.head = 0
        } else if queue.head >= 1024 && queue.head * 2 >= queue.jobs.count {
            queue.jobs.removeFirst(queue.head)
            queue.head = 0
        }
        queues[tenant] = queue
        return job
    }

    /// A probe of `tenant` ended: its slot is free.
    public mutating func finished(tenant: String) {
        queues[tenant]?.running -= 1
        // A tenant with nothing left leaves the circle (it comes back at the end when it has
        // probes again): the circle holds only the tenants at work.
        if let queue = queues[tenant], queue.running == 0, queue.waiting == 0, let index = circle.firstIndex(of: tenant) {
            circle.remove(at: index)
            queues[tenant] = nil
            if index < turn { turn -= 1 }
            if turn >= circle.count { turn = 0 }
        }
    }

    /// `tenant`'s probes not started yet.
    public func waiting(tenant: String) -> Int { queues[tenant]?.waiting ?? 0 }
    /// `tenant`'s probes running.
    public func running(tenant: String) -> Int { queues[tenant]?.running ?? 0 }
    /// Every tenant's probes not started yet.
    public var waiting: Int { queues.values.reduce(0) { $0 + $1.waiting } }
}
