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
    private let pending = CoalescingSignal()
    /// Shared by the engine's thread and the writer's.
    private struct Shared {
        var failure: Error?
        /// Written and not yet recorded: filled by the writer thread, taken by the engine.
        var unrecorded: [ResultWriter.Written] = []
    }
    private let shared = Mutex(Shared())
    /// Owned by `queue`: what the writer wrote and the engine has not recorded yet, so it is
    /// not written twice meanwhile.
    private var writtenNotRecorded: [RequestID: Int] = [:]
    private let chunk: Int

    init(layout: SpoolLayout, database location: DatabaseLocation, files: ResultFiles, chunk: Int, fence: LeaderFence? = nil) throws {
        let store = try StateStore(database: try Schema.open(location))
        if let fence { store.install(fence) }
        // This writer only writes; the engine records what it wrote, on its own writer and clock.
        writer = ResultWriter(layout: layout, store: store, files: files,
                              clock: { preconditionFailure("the result thread's writer records nothing") })
        self.chunk = chunk
    }

    /// Asks for a refresh soon; cheap to call often (at most one is pending).
    func schedule() {
        pending.schedule(on: queue) { [self] in
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
