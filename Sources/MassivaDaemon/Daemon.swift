import Dispatch
import MassivaConfig
import MassivaDatabase
import MassivaDomain
import MassivaProcessing
import MassivaSpool
import MassivaStore
import MassivaSystem
import Synchronization

/// `massiva serve`: the engine as a long-running service under systemd.
///
/// One serial queue owns the engine (and so its SQLite connection); everything that happens —
/// inotify events, the rescan and wake-up timers, signals, the watchdog — is a block on that
/// queue asking for a pass, and passes run `Engine.pass()`, the same code path as
/// `serve --once`. Work is taken in chunks (the engine's active set), so a backlog of any size
/// keeps memory bounded, and a pass that did work is followed by another one queued behind
/// whatever else arrived meanwhile (a signal is never kept waiting for a backlog).
public final class Daemon: @unchecked Sendable {
    public typealias EngineFactory = (Configuration, EventLog) throws -> Engine

    private let queue = DispatchQueue(label: "massiva.daemon")
    private let signalQueue = DispatchQueue(label: "massiva.signals")
    private var configuration: Configuration
    private var engine: Engine
    private let makeEngine: EngineFactory
    private let loadConfiguration: () throws -> Configuration
    private let log: EventLog
    /// The time the wake-ups are computed from, and the watchdog's intervals.
    private let clock: Clock
    private let notifier: SystemdNotifier
    private var watcher: SpoolWatcher?
    private var wakeTimer: DispatchSourceTimer?
    private var rescanTimer: DispatchSourceTimer?
    private var watchdogTimer: DispatchSourceTimer?
    private var signals: SignalSource?
    /// Set by `stop` from the signal queue, read by the engine between requests.
    private let stopRequested = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private var passPending = false
    private var failures = 0
    private var stopped = false
    /// What `run` returns: 0, or `SchemaError.exitStatus` when a newer schema stopped it.
    private var exitStatus: Int32 = 0
    /// The spool's lease (active/passive): the daemon works only while it leads; nil: always
    /// (no other daemon can share the spool).
    private let leadership: LeaseKeeper?

    /// - Parameters:
    ///   - loadConfiguration: how SIGHUP reads the configuration again.
    ///   - makeEngine: builds the engine for a configuration (tests inject a registry double).
    ///   - clock: the time of the engines `makeEngine` builds, which the daemon's wake-ups follow.
    public init(configuration: Configuration, loadConfiguration: @escaping () throws -> Configuration,
                makeEngine: @escaping EngineFactory, log: EventLog, clock: Clock,
                notifier: SystemdNotifier = SystemdNotifier(), leadership: LeaseKeeper? = nil) throws {
        self.leadership = leadership
        self.configuration = configuration
        self.loadConfiguration = loadConfiguration
        self.makeEngine = makeEngine
        self.log = log
        self.clock = clock
        self.notifier = notifier
        self.engine = try makeEngine(configuration, log)
    }

    static let signals: [Signal] = [.terminate, .interrupt, .hangup]

    /// Blocks the daemon's signals in the calling thread: call it first thing, before any other
    /// thread exists (threads inherit the mask), so that none is delivered to a thread with the
    /// default action before `run` reads them.
    public static func blockSignals() throws {
        try SignalMask.block(signals)
    }

    /// Runs until SIGTERM or SIGINT (or `stop()`), or until the database turns out to have a
    /// newer schema than this binary knows; returns the exit status (0, or
    /// `SchemaError.exitStatus` in that last case).
    public func run() -> Int32 {
        Signal.ignoreBrokenPipe()
        // The caller blocked these in every thread before starting any (`Daemon.blockSignals`):
        // one that arrived during start-up is still pending and is delivered now, not lost.
        signals = SignalSource(signals: Self.signals, queue: signalQueue, ignoringDefaultAction: false) { [weak self] signal in
            guard let self else { return }
            if signal == .hangup {
                self.queue.async { self.reload() }
            } else {
                self.stop(because: signal.description)
            }
        }
        queue.async { self.start() }
        finished.wait()
        return exitStatus
    }

    /// Asks the daemon to finish the request in hand and exit (what SIGTERM does).
    public func stop(because reason: String = "requested") {
        stopRequested.withLock { $0 = true }
        queue.async { self.shutDown(reason) }
    }

    private var isStopping: Bool { stopRequested.withLock { $0 } }

    /// Whether this daemon may work now: it leads the spool and trusts its lease.
    private var mayWork: Bool { leadership?.fence.isTrusted ?? true }

    private func start() {
        engine.shouldStop = { [weak self] in self.map { $0.isStopping || !$0.mayWork } ?? true }
        engine.heartbeat = { [weak self] in self?.heartbeat() }
        startWatching()
        armRescan()
        armWatchdog()
        if let leadership {
            log.log("started", ["pid": String(CurrentProcess.id), "spool": configuration.spoolDirectory,
                                "settle_time": DurationSyntax.format(configuration.settleTime),
                                "rescan_interval": DurationSyntax.format(configuration.rescanInterval),
                                "node": leadership.holder.node,
                                "leader_lease_time": DurationSyntax.format(leadership.leaseTime)])
        } else {
            log.log("started", ["pid": String(CurrentProcess.id), "spool": configuration.spoolDirectory,
                                "settle_time": DurationSyntax.format(configuration.settleTime),
                                "rescan_interval": DurationSyntax.format(configuration.rescanInterval)])
        }
        logCompletionMode()
        if let leadership {
            // A standby until the lease says otherwise: it watches the spool, claims nothing.
            leadership.onChange = { [weak self] transition in
                guard let self else { return }
                self.queue.async { self.roleChanged(transition) }
            }
            // Asked once before READY, so that systemd's status says at once which it is.
            leadership.stepNow()
            _ = try? notifier.ready(status: statusLine())
            leadership.start()
        } else {
            _ = try? notifier.ready(status: statusLine())
            lead()
        }
    }

    /// Taking the spool over (or starting alone): what a crash of the former leader left is
    /// finished first, as at any start, then the passes begin.
    private func lead() {
        do {
            try engine.recover()
        } catch {
            log.log("recovery_failed", ["error": "\(error)"])
        }
        requestPass()
    }

    private func roleChanged(_ transition: LeaderElection.Transition) {
        guard !stopped else { return }
        switch transition {
        case .becameLeader:
            lead()
        case .becameStandby:
            // The fence already stops every commit, claim, probe and delivery; the pass under
            // way ends at its next check (`shouldStop`). The timers go on, asking for passes
            // that return at once until this node leads again.
            wakeTimer?.cancel()
            wakeTimer = nil
        }
        _ = try? notifier.status(statusLine())
    }

    /// How this spool tells that an upload is complete (`UploadCompletion.Mode`), once at start
    /// and after a reload.
    private func logCompletionMode() {
        switch engine.intake.completionMode {
        case .lease:
            log.log("upload_completion", ["mode": "lease", "quiet_time": DurationSyntax.format(
                min(UploadCompletion.defaultQuietTime, configuration.settleTime)),
                "resume_time": DurationSyntax.format(configuration.resumeTime)])
        case .settleTime(let reason):
            log.log("upload_completion", ["mode": "settle_time", "settle_time": DurationSyntax.format(configuration.settleTime),
                                          "resume_time": DurationSyntax.format(configuration.resumeTime), "reason": reason])
        }
    }

    private func startWatching() {
        watcher?.stop()
        let watcher = SpoolWatcher(layout: engine.layout, log: log, queue: queue) { [weak self] in self?.requestPass() }
        watcher.onTenantFolder = { [weak self] in self?.syncTenants() }
        watcher.onUploadChange = { [weak self] tenant, name in
            guard let self else { return }
            engine.intake.noteChange(tenant: tenant, name: RawFileName(name), at: engine.clock())
        }
        watcher.start()
        self.watcher = watcher
        syncTenants()
    }

    private func syncTenants() {
        do {
            watcher?.sync(tenants: try engine.store.tenants().map(\.id))
        } catch {
            log.log("tenants_unreadable", ["error": "\(error)"])
        }
    }

    /// Coalesces requests: at most one pass is queued at a time.
    private func requestPass() {
        guard !passPending else { return }
        passPending = true
        queue.async { [self] in
            passPending = false
            runPass()
        }
    }

    private func runPass() {
        guard !isStopping, !stopped else { return }
        guard mayWork else { return }  // a standby: the lease keeper says when to begin
        guard schemaIsKnown() else { return }
        syncTenants()  // one small query: a tenant added meanwhile is watched from now on
        do {
            let summary = try engine.pass()
            failures = 0
            if summary.didWork && !isStopping {
                requestPass()  // more may be waiting; let queued events in first
            } else {
                arm(wakeAt: summary.nextWakeAt)
                _ = try? notifier.status(statusLine())
            }
        } catch let error as Fenced {
            // The lease lapsed or was taken during the pass: nothing of it committed. Not a
            // failure to back off from: the keeper says when this node leads again.
            log.log("pass_fenced", ["error": "\(error)"])
        } catch {
            // The spool or the database is in trouble (disk full, permissions): keep running
            // and try again later rather than die and lose the watch.
            failures += 1
            let delay = min(60.0, Double(1 << min(failures, 6)))
            log.log("pass_failed", ["error": "\(error)", "retry_in": "\(Int(delay))s"])
            arm(wakeAt: clock.now + delay)
        }
    }

    private func arm(wakeAt: Double?) {
        wakeTimer?.cancel()
        wakeTimer = nil
        guard let wakeAt else { return }
        // At most a day: a later time is re-armed by the rescan anyway, and a huge one (a
        // corrupted stored time) must not overflow the timer's nanoseconds.
        let delay = min(86_400, max(0.005, wakeAt - clock.now))
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + delay, leeway: .milliseconds(5))
        timer.setEventHandler { [weak self] in self?.requestPass() }
        timer.resume()
        wakeTimer = timer
    }

    private func armRescan() {
        rescanTimer?.cancel()
        let interval = max(0.1, configuration.rescanInterval)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in
            self?.syncTenants()
            self?.requestPass()
        }
        timer.resume()
        rescanTimer = timer
    }

    /// WATCHDOG=1 at half systemd's interval, from the engine's own queue: if the queue is stuck,
    /// the pings stop and systemd restarts the service.
    private func armWatchdog() {
        guard let interval = notifier.watchdogInterval, interval > 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval / 2, repeating: interval / 2, leeway: .milliseconds(50))
        timer.setEventHandler { [weak self] in _ = try? self?.notifier.watchdog() }
        timer.resume()
        watchdogTimer = timer
        _ = try? notifier.watchdog()
    }

    /// While a pass waits for probes (still on the engine's queue): WATCHDOG=1 when due, so a
    /// long probe round is not taken for a stuck engine, while a stuck one still stops the pings.
    private var lastWatchdogPing = 0.0
    private func heartbeat() {
        guard let interval = notifier.watchdogInterval, interval > 0 else { return }
        let now = clock.monotonic
        if now - lastWatchdogPing >= interval / 2 {
            lastWatchdogPing = now
            _ = try? notifier.watchdog()
        }
    }

    /// A newer massiva's command (`massiva` of a later release run by an operator) migrates the
    /// database when it opens it, also under this running daemon. A pass against tables this
    /// binary does not know could write what the newer release then misreads, so before every
    /// pass and on SIGHUP the schema version is read again (one `PRAGMA user_version`); a newer
    /// one stops the daemon with a `schema_newer_than_binary` line and `SchemaError.exitStatus`.
    /// Passes are short (work is taken in chunks), so none runs long after such a migration.
    /// Returns whether the pass (or reload) may go on.
    private func schemaIsKnown() -> Bool {
        do {
            try engine.store.checkSchema()
            return true
        } catch let error as SchemaError {
            switch error {
            case .newerThanBinary(let path, let found, let supported):
                log.log("schema_newer_than_binary", [
                    "database": path, "found": String(found), "supported": String(supported),
                    "action": "stopping: a newer massiva migrated the database; run that release"])
            }
            exitStatus = SchemaError.exitStatus
            stopRequested.withLock { $0 = true }
            shutDown("the database's schema is newer than this massiva knows")
            return false
        } catch {
            // Unreadable for now (the disk, a lock): the pass meets the same trouble and retries
            // with its backoff, logging it; a reload goes on and keeps its configuration.
            return true
        }
    }

    /// SIGHUP: the configuration and the tenants again. A bad configuration is logged and the
    /// running one kept.
    private func reload() {
        guard !isStopping else { return }
        guard schemaIsKnown() else { return }
        _ = try? notifier.reloading()
        do {
            var fresh = try loadConfiguration()
            if fresh.database != configuration.database {
                // The lease, its fence and the connections of the threads stay on the database the
                // daemon started with: an engine on another one would work outside its lease.
                log.log("database_kept", ["database": DatabaseLocation.redacted(configuration.database),
                                          "configured": DatabaseLocation.redacted(fresh.database),
                                          "action": "restart massiva to use the configured database"])
                fresh.database = configuration.database
            }
            let freshEngine = try makeEngine(fresh, log)
            freshEngine.shouldStop = { [weak self] in self?.isStopping ?? true }
            freshEngine.heartbeat = { [weak self] in self?.heartbeat() }
            // One courier at a time delivers the outbox (in order): the old one gets 5 s to
            // finish the delivery under way (then it is killed, and delivered again, same key:
            // the watchdog must not starve), the new one goes on.
            engine.courier?.stop(grace: 5)
            log.format = fresh.logFormat == .json ? .json : .text
            configuration = fresh
            engine = freshEngine
            startWatching()
            armRescan()
            log.log("reloaded", ["spool": fresh.spoolDirectory])
            logCompletionMode()
        } catch {
            log.log("reload_failed", ["error": "\(error)", "action": "keeping the running configuration"])
        }
        _ = try? notifier.ready(status: statusLine())
        requestPass()
    }

    private func shutDown(_ reason: String) {
        guard !stopped else { return }
        stopped = true
        log.log("stopping", ["reason": reason])
        _ = try? notifier.stopping()
        signals?.cancel()
        for timer in [wakeTimer, rescanTimer, watchdogTimer] { timer?.cancel() }
        watcher?.stop()
        // A delivery under way gets 2 s to finish, then is killed (delivered again next start).
        engine.courier?.stop(grace: 2)
        // The figures as the daemon leaves them, as `serve --once` does at its end: the file then
        // says what was done up to the stop, not up to the last write (at most every 5 s).
        engine.metrics?.writeNow()
        // Released last, once nothing of this daemon's runs: the standby takes over at its next
        // look instead of waiting for the lease to run out.
        leadership?.stop()
        log.log("stopped", [:])
        finished.signal()
    }

    private func statusLine() -> String {
        if let leadership, !mayWork {
            guard let seen = leadership.lastSeen, seen.holder != leadership.holder.id else { return "standby" }
            return "standby: \(seen.node) (\(seen.host), pid \(seen.pid)) leads, term \(seen.term)"
        }
        guard let figures = try? engine.store.queueFigures() else { return "running" }
        return "queued \(figures.queued), in progress \(figures.processing), rows waiting for a retry \(figures.waitingRows)"
    }
}
