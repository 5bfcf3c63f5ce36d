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
        let store = try context.store()
        for tenant in try store.tenants() { TenantFolders.ensure(tenant.id, layout: layout) }
        guard let lock = try FileLock.tryAcquire(layout.lockPath) else {
            throw CLIError("another massiva serve is running on \(layout.root) (pid \(FileLock.recordedPID(layout.lockPath).map(String.init) ?? "?"))")
        }
        defer { try? lock.release() }
        // The probe and association commands run without the daemon's capability.
        ChildProcess.dropInheritedCapabilities()
        let process = ProcessMetrics(startTime: context.clock.now)
        process.version = MassivaVersion.version
        if once {
            let engine = try context.engine(log: log)
            attachMetrics(to: engine, process: process, clock: context.clock, log: log)
            try engine.runUntilIdle()
            engine.metrics?.writeNow()  // the figures as this run leaves them (a failure is logged)
            return 0
        }
        let daemon = try Daemon(
            configuration: try context.configuration(),
            loadConfiguration: { try context.reloadConfiguration() },
            makeEngine: { configuration, log in try makeEngine(configuration, process: process, clock: context.clock, log: log) },
            log: log, clock: context.clock)
        return daemon.run()
    }

    /// An engine on its own connections, for the daemon (and for each reload).
    static func makeEngine(_ configuration: Configuration, process: ProcessMetrics, clock: Clock, log: EventLog) throws -> Engine {
        let engine = try Engine.open(configuration: configuration, clock: clock, log: log)
        for tenant in try engine.store.tenants() { TenantFolders.ensure(tenant.id, layout: engine.layout) }
        attachMetrics(to: engine, process: process, clock: clock, log: log)
        return engine
    }

    /// The metrics file's writer, when `metrics_file` names one: a reload makes a new one, so a
    /// changed path or interval takes effect then (the process's own figures, `process`, go on).
    static func attachMetrics(to engine: Engine, process: ProcessMetrics, clock: Clock, log: EventLog) {
        let configuration = engine.configuration
        guard !configuration.metricsFile.isEmpty else { return }
        engine.metrics = MetricsReporter(path: configuration.metricsFile, databasePath: engine.store.databasePath,
                                         maximalBackoff: configuration.maximalBackoffTime,
                                         tenantQueueLimit: configuration.tenantQueueLimit, log: log,
                                         process: process, clock: clock)
    }

    static let status = Command(CommandDeclaration(
        ["status"], summary: "is the daemon running on this spool, and the queue figures (exit 0 running, 3 not running)"),
        privilege: .spoolOwner) { context in
        let layout = try context.layout()
        let running = (try? FileLock.isHeld(layout.lockPath)) ?? false
        let figures = try context.store().queueFigures()
        if running {
            Output.print("massiva serve is running (pid \(FileLock.recordedPID(layout.lockPath).map(String.init) ?? "?")) on \(layout.root)")
        } else {
            Output.print("massiva serve is not running on \(layout.root)")
        }
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
}
