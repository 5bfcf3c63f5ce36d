import Dispatch
import MassivaDatabase
import MassivaDomain
import MassivaRegistry
import MassivaResults
import MassivaSpool
import MassivaStore
import MassivaSystem
import Synchronization

/// Writes result files on a second thread, with its own SQLite connection, while the engine
/// goes on processing: file creation (the kernel's share) and rendering overlap with the row
/// checks. The files are derived from committed state only, and the engine's own connection
/// records what was written (so the two threads never wait on SQLite's write lock for each
/// other): after a crash, whatever was not recorded is stale and written again.
///
/// The tenants' lists (richieste.csv, associazioni.csv) and retention run on a third thread,
/// `ListWriter`, so a request's files never wait for a list of the tenant's whole history.
final class ResultPipeline: @unchecked Sendable {
    private let queue = DispatchQueue(label: "massiva.results")
    private let writer: ResultWriter
    /// Shared by the engine's thread and the writer's.
    private struct Shared {
        var scheduled = false
        var failure: Error?
        /// Written and not yet recorded: filled by the writer thread, taken by the engine.
        var unrecorded: [ResultWriter.Written] = []
    }
    private let shared = Mutex(Shared())
    /// Owned by `queue`: what the writer wrote and the engine has not recorded yet, so it is
    /// not written twice meanwhile.
    private var writtenNotRecorded: [RequestID: Int] = [:]
    private let chunk: Int

    init(layout: SpoolLayout, databasePath: String, files: ResultFiles, chunk: Int) throws {
        let store = try StateStore(database: try Schema.open(path: databasePath))
        // This writer only writes; the engine records what it wrote, on its own writer and clock.
        writer = ResultWriter(layout: layout, store: store, files: files,
                              clock: { preconditionFailure("the result thread's writer records nothing") })
        self.chunk = chunk
    }

    /// Asks for a refresh soon; cheap to call often (at most one is pending).
    func schedule() {
        let start = shared.withLock { state -> Bool in
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            shared.withLock { $0.scheduled = false }
            do {
                while true {
                    let written = try writer.write(limit: chunk, skipping: writtenNotRecorded)
                    if written.isEmpty { break }
                    for w in written { writtenNotRecorded[w.id] = w.version }
                    shared.withLock { $0.unrecorded += written }
                }
            } catch {
                shared.withLock { $0.failure = error }
            }
        }
    }

    /// Records, on the engine's connection, what the writer thread has written so far.
    func record(on results: ResultWriter) throws {
        let written = shared.withLock { state -> [ResultWriter.Written] in
            defer { state.unrecorded.removeAll() }
            return state.unrecorded
        }
        if written.isEmpty { return }
        try results.markWritten(written)
        queue.async { [self] in
            for w in written where writtenNotRecorded[w.id] == w.version { writtenNotRecorded[w.id] = nil }
        }
    }

    /// Waits until every refresh asked for so far is done and recorded; rethrows a failure.
    func drain(recordingOn results: ResultWriter) throws {
        queue.sync {}
        try record(on: results)
        queue.sync {}
        let error = shared.withLock { state -> Error? in
            defer { state.failure = nil }
            return state.failure
        }
        if let error { throw error }
    }
}

/// The tenants' lists and retention, on a thread and a connection of their own, rate-limited by
/// what they cost: after a run that took `d`, the next one starts no sooner than
/// `max(requestListInterval, 4 d)` later, and associazioni.csv is written no sooner than
/// `max(associationListInterval, 10 d)` after it last was (0.25 s both). So a list of any length takes at
/// most a fifth (a tenth) of one core, and the requests' own files never wait for it.
///
/// Measured with 5,000 requests and 500,000 associations in one tenant (issue 10): writing
/// richieste.csv and, every 5 s, associazioni.csv on the engine's path made a dropped file take
/// p50 379 ms, p90 683 ms; see docs/performance.md for the figures with this thread.
final class ListWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "massiva.lists")
    private let writer: ResultWriter
    private let registry: EmbeddedRegistry
    private let log: EventLog
    private let retention: Double
    private let clock: @Sendable () -> Double
    var requestListInterval = 0.25
    /// Appending costs little (a copy of the file), so the list follows within a moment; a list
    /// written whole (2 s for 500,000 associations) waits ten times that before the next.
    var associationListInterval = 0.25

    private struct Shared {
        var scheduled = false
        var failure: Error?
    }
    private let shared = Mutex(Shared())
    /// Owned by `queue`.
    private var notBefore = -Double.infinity
    private var associationsNotBefore = -Double.infinity
    private var associationsDeferred = false

    init(layout: SpoolLayout, databasePath: String, files: ResultFiles, retention: Double, log: EventLog,
         clock: @escaping @Sendable () -> Double) throws {
        let database = try Schema.open(path: databasePath)
        writer = ResultWriter(layout: layout, store: try StateStore(database: database), files: files, clock: clock)
        registry = try EmbeddedRegistry(database: database)
        self.retention = retention
        self.log = log
        self.clock = clock
    }

    /// Asks for the lists to be brought up to date, as soon as the rate limit allows.
    func schedule() {
        let start = shared.withLock { state -> Bool in
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        guard start else { return }
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
        shared.withLock { $0.scheduled = false }
        let start = clock()
        do {
            try writer.refreshRequestLists()
            if retention > 0 {
                let removed = try writer.applyRetention(cutoff: start - retention)
                if removed > 0 { log.log("retired", ["folders": String(removed)]) }
            }
            let now = clock()
            if now >= associationsNotBefore {
                let written = try refreshAssociationLists()
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
            // and tried again later; the lists stay stale in the database meanwhile.
            log.log("lists_failed", ["error": "\(error)", "retry_in": "5s"])
            shared.withLock { $0.failure = error }
            queue.asyncAfter(deadline: .now() + 5) { [weak self] in self?.schedule() }
        }
        notBefore = clock() + max(requestListInterval, 4 * (clock() - start))
    }

    /// associazioni.csv, read through the registry; while the registry is down they stay
    /// stale (logged once) and are written when it answers again.
    private var outageLogged = false
    private func refreshAssociationLists() throws -> Int {
        do {
            let n = try writer.refreshAssociationLists(from: registry)
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

    /// Waits for the run in hand (not for a rate-limited one to come); rethrows a failure.
    func drain() throws {
        queue.sync {}
        let error = shared.withLock { state -> Error? in
            defer { state.failure = nil }
            return state.failure
        }
        if let error { throw error }
    }
}
