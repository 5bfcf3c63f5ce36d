import MassivaConfig
import MassivaDaemon
import MassivaDatabase
import MassivaMetrics
import MassivaProcessing
import MassivaRegistry
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `serve` (the engine, once or as the daemon) and `status` (is it running, queue figures).
enum ServeCommands {
    static let all: [Command] = [serve, status]

    static let serve = Command(CommandDeclaration(
        ["serve"], summary: "process the spool: as a daemon (systemd Type=notify), or with --once until nothing more is due now",
        flags: [FlagDeclaration("--once", help: "take every complete file, process everything due, refresh results, exit")]),
        privilege: .spoolOwner) { context in
        let once = context.arguments.flag("--once")
        if !once { try Daemon.blockSignals() }
        let log = try context.log()
        let layout = try context.layout()
        // The daemon waits for a database out of reach (`DatabaseWait`); a batch, like every
        // command, stops at once with status 2.
        // The daemon's lock, taken before it waits for the database: a second daemon of the node
        // is refused at once rather than waiting too, and `status` sees the waiting one running.
        // The node's name is the one massiva.cf gives at start (a reload does not rename it).
        let lockConfiguration = try context.configuration()
        let lockPath = layout.lockPath(node: lockConfiguration.nodeName, host: CurrentProcess.hostName)
        func takeLock() throws -> FileLock {
            guard let lock = try FileLock.tryAcquire(lockPath) else {
                let named = lockPath == layout.lockPath ? "" : " as node \(lockConfiguration.nodeName)"
                throw CLIError("another massiva serve is running\(named) on \(layout.root) (pid \(FileLock.recordedPID(lockPath).map(String.init) ?? "?"))")
            }
            return lock
        }
        var heldLock: FileLock?
        if !once {
            heldLock = try context.asSpoolOwner { () throws -> FileLock in
                do { try OpenedSpool.prepareFolders(layout) } catch let error as OpenedSpool.PreparationError {
                    throw CLIError(error.description)
                }
                return try takeLock()
            }
        }
        defer { try? heldLock?.release() }
        var wait = once ? nil : DatabaseWait(database: try context.databaseLocation(), log: log, reload: {
            _ = try context.reloadConfiguration()
            return try context.databaseLocation()
        })
        func untilReachable<Value>(_ body: () throws -> Value) throws -> Value? {
            guard wait != nil else { return try body() }
            return try wait!.run(body)
        }
        guard let store = try untilReachable({ () throws -> StateStore in
            let store = try context.store()
            for tenant in try store.tenants() { TenantFolders.ensure(tenant.id, layout: layout) }
            return store
        }) else { return 0 }  // stopped (SIGTERM) while waiting
        let configuration = try context.configuration()
        if heldLock == nil { heldLock = try takeLock() }
        // The probe and association commands run without the daemon's capability.
        ChildProcess.dropInheritedCapabilities()
        let process = ProcessMetrics(startTime: context.clock.now)
        process.version = MassivaVersion.version
        // The spool's lease: this daemon works only while it leads (docs/high-availability.md).
        func makeLeadership() throws -> LeaseKeeper {
            let leadership = try LeaseKeeper(database: store.databaseLocation, spool: layout.root,
                                             holder: LeaseHolder.thisProcess(configuration, startedAt: process.startTime),
                                             leaseTime: configuration.leaderLeaseTime, clock: context.clock, log: log)
            process.leadership = { [weak leadership] in
                leadership.map { ($0.holder.node, $0.fence.trustedTerm) }
            }
            return leadership
        }
        if once {
            let leadership = try makeLeadership()
            // A batch leads or does not run: it never waits for a lease another daemon holds.
            leadership.stepNow()
            guard leadership.fence.isTrusted else {
                let seen = leadership.lastSeen
                throw CLIError("node \(seen?.node ?? "?") (\(seen?.host ?? "?"), pid \(seen.map { String($0.pid) } ?? "?")) leads "
                               + "\(layout.root) (term \(seen.map { String($0.term) } ?? "?")): serve --once runs only where no other daemon leads")
            }
            leadership.start()  // renewed while the batch runs
            defer { leadership.stop() }
            let engine = try Engine(spool: try context.spool(), clock: context.clock, log: log, fence: leadership.fence)
            engine.shouldStop = { !leadership.fence.isTrusted }
            attachMetrics(to: engine, process: process, clock: context.clock, log: log)
            try engine.runUntilIdle()
            engine.metrics?.writeNow()  // the figures as this run leaves them (a failure is logged)
            return 0
        }
        // Their connections are opened again should the database have gone meanwhile.
        guard let daemon = try untilReachable({ () throws -> Daemon in
            let leadership = try makeLeadership()
            return try Daemon(
                configuration: configuration,
                loadConfiguration: { try context.reloadConfiguration() },
                makeEngine: { configuration, log in
                    try makeEngine(configuration, process: process, clock: context.clock, log: log, fence: leadership.fence)
                },
                log: log, clock: context.clock, leadership: leadership)
        }) else { return 0 }
        return daemon.run()
    }

    /// An engine on its own connections, for the daemon (and for each reload), fenced by the
    /// daemon's lease.
    static func makeEngine(_ configuration: Configuration, process: ProcessMetrics, clock: Clock, log: EventLog,
                           fence: LeaderFence? = nil) throws -> Engine {
        let engine = try Engine.open(configuration: configuration, clock: clock, log: log, fence: fence)
        for tenant in try engine.store.tenants() { TenantFolders.ensure(tenant.id, layout: engine.layout) }
        attachMetrics(to: engine, process: process, clock: clock, log: log)
        return engine
    }

    /// The metrics file's writer, when `metrics_file` names one: a reload makes a new one, so a
    /// changed path or interval takes effect then (the process's own figures, `process`, go on).
    static func attachMetrics(to engine: Engine, process: ProcessMetrics, clock: Clock, log: EventLog) {
        let configuration = engine.configuration
        guard !configuration.metricsFile.isEmpty else { return }
        engine.metrics = MetricsReporter(path: configuration.metricsFile, database: engine.store.databaseLocation,
                                         maximalBackoff: configuration.maximalBackoffTime,
                                         tenantQueueLimit: configuration.tenantQueueLimit, log: log,
                                         process: process, clock: clock)
    }

    static let status = Command(CommandDeclaration(
        ["status"], summary: "is the daemon running on this spool, and the queue figures (exit 0 running, 3 not running)"),
        privilege: .spoolOwner) { context in
        let layout = try context.layout()
        let configuration = try context.configuration()
        let lockPath = layout.lockPath(node: configuration.nodeName, host: CurrentProcess.hostName)
        let running = (try? FileLock.isHeld(lockPath)) ?? false
        let node = LeaseHolder.nodeName(configuration)
        // Said before the database is opened: with the database out of reach, an operator still
        // learns whether the daemon runs (and waits for it), then the error, exit 2.
        if running {
            Output.print("massiva serve is running (pid \(FileLock.recordedPID(lockPath).map(String.init) ?? "?")) on \(layout.root)")
        } else {
            Output.print("massiva serve is not running on \(layout.root)" + (configuration.nodeName.isEmpty ? "" : " as node \(node)"))
        }
        let figures = try context.store().queueFigures()
        printLeadership(try context.store().leaderLease(spool: layout.root).current(), node: node, running: running,
                        runningPID: FileLock.recordedPID(lockPath), now: context.clock.now)
        Output.print("queued: \(figures.queued)")
        // Each tenant's queue, and the tenants at tenant_queue_limit (their uploads wait in incoming/).
        let limit = try context.configuration().tenantQueueLimit
        for (tenant, count) in try context.store().queuedRequestsByTenant().sorted(by: { $0.key < $1.key }) {
            Output.print("  \(tenant): \(count)" + (count >= limit ? " (at tenant_queue_limit \(limit): new uploads wait in incoming/)" : ""))
        }
        Output.print("in progress: \(figures.processing)")
        Output.print("rows waiting for a retry: \(figures.waitingRows)")
        if let next = try context.store().nextDueTime() { Output.print("next retry: \(SystemClock.iso8601(next))") }
        let outbox = try context.store().outbox().figures()
        Output.print("association events waiting for delivery: \(outbox.depth)")
        if let oldest = outbox.oldest {
            Output.print("oldest event: \(oldest.kind.rawValue) \(oldest.pod) \(oldest.sid) key \(oldest.key), "
                         + "made \(SystemClock.iso8601(oldest.createdAt)), \(oldest.attempts) failed deliveries"
                         + (oldest.attempts > 0 ? ", next try \(SystemClock.iso8601(oldest.nextAttemptAt))" : "")
                         + (oldest.lastError.map { ", last error: \($0)" } ?? ""))
        }
        return running ? 0 : 3
    }

    /// The lease's holder and this node's role (`status`).
    static func printLeadership(_ lease: LeaseRecord?, node: String, running: Bool, runningPID: Int32?, now: Double) {
        guard let lease else {
            Output.print("leader: none yet (no daemon has taken the spool's lease)")
            Output.print("this node (\(node)): " + (running ? "starting" : "not running"))
            return
        }
        let valid = lease.isValid(at: now)
        Output.print("leader: node \(lease.node), host \(lease.host), pid \(lease.pid), term \(lease.term), "
                     + "since \(SystemClock.iso8601(lease.acquiredAt)), lease "
                     + (valid ? "until \(SystemClock.iso8601(lease.expiresAt))" : "expired at \(SystemClock.iso8601(lease.expiresAt)) (no leader now)"))
        let leads = valid && lease.node == node && running && runningPID.map { Int($0) == lease.pid } ?? false
        Output.print("this node (\(node)): " + (!running ? "not running" : leads ? "leader" : "standby"))
    }
}

extension LeaseHolder {
    /// `node_name`, or the host name when it is not set.
    static func nodeName(_ configuration: Configuration) -> String {
        configuration.nodeName.isEmpty ? CurrentProcess.hostName : configuration.nodeName
    }

    /// This process as the lease's holder.
    static func thisProcess(_ configuration: Configuration, startedAt: Double) -> LeaseHolder {
        LeaseHolder(node: nodeName(configuration), host: CurrentProcess.hostName, pid: Int(CurrentProcess.id), startedAt: startedAt)
    }
}
