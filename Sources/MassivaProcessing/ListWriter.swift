import MassivaDatabase
import Dispatch
import MassivaRegistry
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem
import Synchronization

/// The tenants' lists (richieste.csv, associazioni.csv) and retention: the one writer of them,
/// whatever registry the engine processes requests against. On a thread and a connection of
/// their own, rate-limited by what they cost: after a run that took `d`, the next one starts no
/// sooner than `max(requestListInterval, 4 d)` later, and associazioni.csv is written no sooner
/// than `max(associationListInterval, 10 d)` after it last was (0.25 s both). So a list of any
/// length takes at most a fifth (a tenth) of one core, and the requests' own files never wait
/// for it.
///
/// `recover` and `finish` run on the caller's thread and connection (in turn with the queue):
/// at start-up and at the end of `serve --once` the engine's connection is the one whose cache
/// holds the pages (it just wrote them). Run on this thread's cold connection, `serve --once`
/// peaked 8 MiB higher (its `cache_size`), 50.9 MiB against 42.8 (bench, 1,000 requests).
///
/// The associations are read through the embedded registry, on whichever connection: they are
/// the spool database's, and a registry that wraps the embedded one (a test's, to make it fail)
/// reads the same rows. Until this type was the only writer, such a wrapper had the engine
/// write the lists itself, on a second code path the daemon never took.
///
/// Measured with 5,000 requests and 500,000 associations in one tenant (issue 10): writing
/// richieste.csv and, every 5 s, associazioni.csv on the engine's path made a dropped file take
/// p50 379 ms, p90 683 ms; see the README's "Performance" for the figures with this thread.
final class ListWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "massiva.lists")
    /// What the lists are read and written through: a result writer, and the embedded registry
    /// for the associations, on one connection.
    struct Connection {
        let writer: ResultWriter
        let registry: EmbeddedRegistry

        /// The writer's store and a registry on its connection.
        init(writer: ResultWriter) throws {
            self.writer = writer
            self.registry = try writer.store.embeddedRegistry()
        }
    }
    /// The thread's own connection.
    private let own: Connection
    private let log: EventLog
    private let retention: Double
    private let clock: @Sendable () -> Double
    var requestListInterval = 0.25
    /// Appending costs little (a copy of the file), so the list follows within a moment; a list
    /// written whole (2 s for 500,000 associations) waits ten times that before the next.
    var associationListInterval = 0.25

    /// Raised from `schedule` until the run (after the rate limit's wait) begins.
    private let pending = CoalescingSignal()
    private let failure = Mutex<Error?>(nil)
    /// Owned by `queue`.
    private var notBefore = -Double.infinity
    private var associationsNotBefore = -Double.infinity
    private var associationsDeferred = false
    private var outageLogged = false
    /// `private/refused/` is pruned by the same retention (`RefusedFolder.prune`), at most once
    /// a minute: a look at every tenant's folder, not worth a run of every burst of work.
    private let layout: SpoolLayout
    private var refusedNotBefore = -Double.infinity

    init(layout: SpoolLayout, database location: DatabaseLocation, files: ResultFiles, retention: Double, log: EventLog,
         clock: @escaping @Sendable () -> Double, fence: LeaderFence? = nil) throws {
        let store = try StateStore(database: try Schema.open(location))
        if let fence { store.install(fence) }
        own = try Connection(writer: ResultWriter(layout: layout, store: store, files: files, clock: clock))
        self.retention = retention
        self.layout = layout
        self.log = log
        self.clock = clock
    }

    /// Asks for the lists to be brought up to date, as soon as the rate limit allows.
    func schedule() {
        guard pending.raise() else { return }
        queue.async { [self] in
            let wait = notBefore - clock()
            if wait > 0 {
                queue.asyncAfter(deadline: .now() + wait) { [self] in run() }
            } else {
                run()
            }
        }
    }

    private func run() {
        pending.lower()
        let start = clock()
        let writer = own.writer
        do {
            try writer.refreshRequestLists()
            if retention > 0 {
                let removed = try writer.applyRetention(cutoff: start - retention)
                if removed > 0 { log.log("retired", ["folders": String(removed)]) }
                if start >= refusedNotBefore {
                    refusedNotBefore = start + 60
                    pruneRefused(cutoff: start - retention)
                }
            }
            let now = clock()
            if now >= associationsNotBefore {
                let written = try refreshAssociationLists(on: own)
                if written > 0 {
                    associationsNotBefore = clock() + max(associationListInterval, 10 * (clock() - now))
                }
            } else if !associationsDeferred, try !writer.store.staleAssociationLists().isEmpty {
                // Stale and not yet due: come back when it is.
                associationsDeferred = true
                queue.asyncAfter(deadline: .now() + (associationsNotBefore - now)) { [self] in
                    associationsDeferred = false
                    schedule()
                }
            }
        } catch {
            // Disk full, permissions: logged, kept for `drain` (serve --once fails with it),
            // and tried again later; the lists stay stale in the database meanwhile. Not a
            // `Fenced`: the node did not lead when this run began (a pass made before it took
            // the lease, or its lease lapsed), which says nothing of the passes it makes once it
            // leads (their own transactions are fenced); kept, it failed the first of them (seen
            // on PostgreSQL, where the lease's own connection is slower to open, one run in ten).
            log.log("lists_failed", ["error": "\(error)", "retry_in": "5s"])
            if !(error is Fenced) { failure.withLock { $0 = error } }
            queue.asyncAfter(deadline: .now() + 5) { [weak self] in self?.schedule() }
        }
        notBefore = clock() + max(requestListInterval, 4 * (clock() - start))
    }

    /// Refused uploads kept aside longer than `result_retention` removed.
    private func pruneRefused(cutoff: Double) {
        let removed = RefusedFolder.prune(layout, before: cutoff, log: log)
        if removed > 0 { log.log("refused_pruned", ["entries": String(removed)]) }
    }

    /// associazioni.csv, read through the registry; while the registry is down they stay
    /// stale (logged once) and are written when it answers again: an outage pauses them as it
    /// pauses the rows, it does not fail the run.
    private func refreshAssociationLists(on connection: Connection) throws -> Int {
        do {
            let n = try connection.writer.refreshAssociationLists(from: connection.registry)
            outageLogged = false
            return n
        } catch let error as RegistryError {
            if !outageLogged {
                log.log("association_lists_deferred", ["error": "\(error)"])
                outageLogged = true
            }
            return 0
        }
    }

    /// At start-up, before any pass: richieste.csv as the last run left it, and the folders of
    /// requests retired before a crash removed, through `connection` (the engine's).
    /// associazioni.csv waits for `schedule` (written whole, it may take seconds).
    func recover(on connection: Connection) throws {
        try queue.sync {
            _ = try connection.writer.refreshRequestLists()
            _ = try connection.writer.removeRetiredFolders()
        }
    }

    /// Waits for the run in hand (not for a rate-limited one to come); rethrows a failure.
    func drain() throws {
        queue.sync {}
        let error = failure.withLock { error -> Error? in
            defer { error = nil }
            return error
        }
        if let error { throw error }
    }

    /// Every list brought up to date and retention applied whole, now, whatever the rate limit,
    /// through `connection` (the engine's): the end of `serve --once`. Retention goes `limit`
    /// folders at a time until `shouldStop`.
    func finish(on connection: Connection, limit: Int, shouldStop: () -> Bool) throws {
        try drain()
        let writer = connection.writer
        try queue.sync {
            if retention > 0 {
                while !shouldStop() {
                    let removed = try writer.applyRetention(cutoff: clock() - retention, limit: limit)
                    if removed > 0 { log.log("retired", ["folders": String(removed)]) }
                    if removed < limit { break }
                }
                pruneRefused(cutoff: clock() - retention)
            }
            _ = try writer.refreshRequestLists()
            _ = try refreshAssociationLists(on: connection)
        }
    }
}
