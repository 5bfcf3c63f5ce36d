import MassivaDomain
import MassivaRegistry
import MassivaStore

extension Engine {
    /// What a pass with `probe_command` did: first passes and retries.
    struct ProbedWork {
        var processed = 0
        var retried = 0
    }

    /// A request in the probe batch: what it is, and when its probes were planned (a retry takes
    /// the rows due then: a row due later was not probed, it waits for the next pass).
    private struct Entry {
        var work: PendingWork
        var plannedAt: Double
    }

    /// The pass's work with `probe_command`: queued requests and retries due, taken round-robin
    /// between tenants (`pendingWorkFairly`) into one `FairProbeBatch`, whose slots the tenants
    /// share (`tenant_probe_concurrency`). Work joins while the probes run: about every second
    /// the uploads settled meanwhile are recorded (`whileProbing`) and taken at once, and a
    /// tenant whose probes not yet started fall below `probe_concurrency` gets its next request,
    /// so the batch holds a few requests per tenant (enough to fill every slot), not a backlog.
    /// A request whose answers are all in commits with the others ready then, `groupSize` to a
    /// transaction, each its own savepoint, whatever became of the requests taken before it:
    /// every decision in its pass is taken as without probes (check order, attempts, backoff).
    ///
    /// The pass takes at most `chunkSize` requests (`active_queue_limit`), then lets the batch
    /// finish: memory stays bounded and the rest of the pass (result files, lists, the outbox,
    /// the metrics) runs. It stops early, killing the probes running, when the registry goes
    /// down or a stop is asked for; what was not committed is queued or due as before, and the
    /// next pass plans it again.
    func runFairly() throws -> ProbedWork {
        guard let commandProbe else { return ProbedWork() }
        let batch = FairProbeBatch(probe: commandProbe, concurrency: probeConcurrency, tenantConcurrency: tenantProbeConcurrency)
        defer {
            batch.cancel()
            batch.drain()
        }
        var done = ProbedWork()
        var entries: [Int: Entry] = [:]
        // Every request taken in this pass: none is taken twice (a pass undone by a row that
        // reached check 15 only now is planned again by the next pass).
        var seen = Set<RequestID>()
        // Tenants with work left when the batch was last fed: fed again when their probes not
        // yet started fall below a slot's worth.
        var hungry = Set<String>()
        var refillDue = true
        var halted = false

        func refill() throws {
            refillDue = false
            hungry.removeAll()
            let room = chunkSize - seen.count
            guard room > 0 else { return }
            let now = clock()
            let candidates = try store.pendingWorkFairly(now: now, limit: room + seen.count).filter { !seen.contains($0.id) }
            var waiting: [String: Int] = [:]
            // Added together: no probe starts before the last is in, so the slots go by turns.
            try batch.adding { try store.readTransaction {
                for work in candidates {
                    let queued = waiting[work.tenant] ?? batch.waiting(tenant: work.tenant)
                    // Enough of this tenant waits to fill every slot: its next request would
                    // only sit in memory (and in front of a tenant that comes later).
                    if queued >= probeConcurrency || seen.count >= chunkSize {
                        hungry.insert(work.tenant)
                        continue
                    }
                    // A request that cannot be planned (a record that does not decode, a
                    // registry error) gets no probes: its pass meets the same error and deals with it.
                    let targets = (try? (work.isRetry ? processor.probesForDue(work.id, now: now)
                                                      : processor.probesForQueued(work.id, now: now))) ?? []
                    entries[batch.add(tenant: work.tenant, targets: targets)] = Entry(work: work, plannedAt: now)
                    seen.insert(work.id)
                    waiting[work.tenant] = queued + targets.count
                }
            } }
        }

        while !halted && !shouldStop() {
            if refillDue || hungry.contains(where: { batch.waiting(tenant: $0) < probeConcurrency }) { try refill() }
            let ready = batch.takeReady(limit: groupSize)
            if ready.isEmpty {
                if batch.itemCount == 0 { break }
                batch.waitForProgress(timeout: 0.25)
            }
            // Between commits as well as while waiting: a round that commits without pause
            // still pings the watchdog and claims the uploads (both rate-limited inside).
            if whileProbing() { refillDue = true }
            if ready.isEmpty { continue }
            var reports: [RequestProcessor.PassReport] = []
            try store.transaction {
                for item in ready {
                    if shouldStop() { halted = true; break }
                    guard let entry = entries.removeValue(forKey: item) else { continue }
                    let probe = batch.answers(item: item)
                    let id = entry.work.id
                    let pass: () throws -> RequestProcessor.PassReport? = entry.work.isRetry
                        ? { try self.processor.retryDue(id, now: self.clock(), dueBy: entry.plannedAt, probe: probe) }
                        : { try self.processor.processQueued(id, now: self.clock(), probe: probe) }
                    guard try run(pass, id, reports: &reports) else {
                        halted = true
                        break
                    }
                    if entry.work.isRetry { done.retried += 1 } else { done.processed += 1 }
                }
            }
            reports.forEach(logReport)
            try pipeline.record(on: results)
            pipeline.schedule()
            refillDue = true  // a tenant's request left the batch: its next may come in
        }
        return done
    }
}
