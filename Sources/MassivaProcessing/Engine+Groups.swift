import MassivaDatabase
import MassivaDomain
import MassivaRegistry
import MassivaStore

extension Engine {
    /// Runs `pass` on each of `ids`, `groupSize` to a transaction, until the registry goes down
    /// or a stop is asked for; logs each request once its group is committed. Returns how many.
    /// (With `probe_command`, `runFairly` runs the pass's work instead.)
    func runGrouped(_ ids: [RequestID], readingAhead: Bool = false,
                    _ pass: (RequestID) throws -> RequestProcessor.PassReport?) throws -> Int {
        var done = 0
        var index = 0
        var halted = false
        // Read ahead, a group's uploads are all in memory at once: its size is bounded by their
        // bytes too, not only by `groupSize`.
        let sizes = readingAhead && store.database.engine == .postgresql ? try store.contentSizes(ids) : [:]
        while index < ids.count && !halted {
            var reports: [RequestProcessor.PassReport] = []
            var group: [RequestID] = []
            var bytes = 0
            for id in ids[index...] {
                let size = sizes[id] ?? 0
                if group.count == groupSize || (!group.isEmpty && bytes + size > Self.readAheadBytes) { break }
                group.append(id)
                bytes += size
            }
            if store.database.engine == .postgresql,
               let behind = runBehind(group, readingAhead: readingAhead, pass) {
                done += behind.reports.count
                index += behind.reports.count
                halted = behind.halted
                behind.reports.compactMap { $0 }.forEach(logReport)
                try pipeline.record(on: results)
                pipeline.schedule()
                continue
            }
            try store.transaction {
                for id in group {
                    if shouldStop() { halted = true; break }
                    guard try run({ try pass(id) }, id, reports: &reports) else {
                        halted = true
                        break
                    }
                    done += 1
                    index += 1
                }
            }
            reports.forEach(logReport)
            try pipeline.record(on: results)
            pipeline.schedule()
        }
        return done
    }

    /// The most bytes of uploads a group reads ahead (PostgreSQL's first passes; one upload
    /// larger than this goes alone). HostileInputTests' 120 uploads of 1 MB: `serve --once`
    /// peaked at 143 MB in groups of 32 against its bound of 90 MB (groups of 8 kept under it).
    static let readAheadBytes = 8 << 20

    /// PostgreSQL: a group's passes with nothing waited for until its COMMIT: what they read
    /// read ahead at once (`RequestProcessor.readingAhead`, for first passes), their writes sent
    /// behind (`Database.writingBehind`), no savepoint per request (`withoutSavepoints`). So
    /// the server inserts one request's rows while this thread checks the next one's.
    ///
    /// Nil when anything failed (a request's error, the registry's, the database's): the group
    /// is rolled back whole, nothing of it done, and the caller runs it again the usual way, a
    /// savepoint per request, which gives each failure its usual answer. Nothing of a pass leaves
    /// the transaction before its commit (the log lines are written after it; probes with
    /// `probe_command` take `runFairly`, not this). A stop asked for ends the group after the
    /// request in hand: `halted`.
    ///
    /// Measured with `scripts/bench` (docs/performance.md#on-postgresql).
    func runBehind(_ group: [RequestID], readingAhead: Bool,
                   _ pass: (RequestID) throws -> RequestProcessor.PassReport?) -> (reports: [RequestProcessor.PassReport?], halted: Bool)? {
        // An outage to close (the engine's first group, or the registry back): the usual way,
        // which records it in the group's transaction.
        guard outageGate.state == .available else { return nil }
        var reports: [RequestProcessor.PassReport?] = []
        var halted = false
        do {
            try store.transaction {
                try store.database.withoutSavepoints {
                    try store.database.writingBehind {
                        func passes() throws {
                            for id in group {
                                if shouldStop() { halted = true; break }
                                reports.append(try pass(id))
                            }
                        }
                        if readingAhead {
                            try processor.readingAhead(group, now: clock(), passes)
                        } else {
                            try passes()
                        }
                    }
                }
            }
        } catch {
            groupsRunAgain += 1
            log.log("group_again", ["requests": String(group.count), "error": "\(error)"])
            return nil
        }
        groupsRunBehind += 1
        return (reports, halted)
    }

    /// Runs one request's pass. Returns false when the registry is down (stop for now).
    func run(_ body: () throws -> RequestProcessor.PassReport?, _ id: RequestID,
                     reports: inout [RequestProcessor.PassReport]) throws -> Bool {
        do {
            if let report = try body() { reports.append(report) }
            switch outageGate.answered() {
            case nil:
                break
            case .previous:
                recordOutage { try $0.registryOutageEnded(now: clock()) }
            case .outage(let outages):
                recordOutage { try $0.registryOutageEnded(now: clock()) }
                log.log("registry_available", ["after_outages": String(outages)])
            }
            return true
        } catch let error as ProbeNotAnswered {
            // Undone, nothing spent: stopping (its probes were killed), or a row that reached
            // check 15 only now (the registry changed since the probes were planned): the next
            // pass plans it again.
            if error.stopping { return false }
            log.log("probe_replanned", ["request": id.description, "pod": error.pod])
            return true
        } catch let error as RegistryError {
            let now = clock()
            let failure = outageGate.failed(now: now)
            if failure.started { recordOutage { try $0.registryOutageStarted(now: now) } }
            log.log("registry_unavailable", ["error": "\(error)", "request": id.description,
                                             "retry_in": "\(Int(failure.delay.rounded(.up)))s"])
            return false
        } catch let error as DatabaseError where error.isBusy {
            // Another process held the database too long: not this request's fault.
            log.log("database_busy", ["request": id.description, "error": "\(error)"])
            return false
        } catch let error as DatabaseError {
            // Disk full, I/O error: the database's trouble, not this request's. The pass fails
            // and is tried again; rejecting the request would outlive the trouble.
            throw error
        } catch {
            log.log("request_failed", ["id": id.description, "error": "\(error)"])
            try processor.fail(id, because: error, now: clock())
            return true
        }
    }

    /// Records an outage's start or end in the database (its metrics), in the group's
    /// transaction. Bookkeeping: a failure is logged, never the engine's.
    private func recordOutage(_ body: (MetricsStore) throws -> Void) {
        do {
            try body(store.metricsStore())
        } catch {
            log.log("outage_record_failed", ["error": "\(error)"])
        }
    }

    func logReport(_ r: RequestProcessor.PassReport) {
        switch r.status {
        case .done:
            log.log("done", ["id": r.id.description, "tenant": r.tenant, "file": r.fileName, "rows": String(r.rowsTotal),
                             "errors": String(r.rowsFailed)])
        case .rejected:
            log.log("rejected", ["id": r.id.description, "tenant": r.tenant, "file": r.fileName, "reason": r.reason ?? ""])
        case .processing:
            log.log("deferred", ["id": r.id.description, "tenant": r.tenant, "file": r.fileName, "rows": String(r.rowsTotal),
                                 "waiting": String(r.rowsWaiting), "errors": String(r.rowsFailed)])
        default: break
        }
    }
}
