import Dispatch
import MassivaDatabase
import MassivaDomain
import MassivaSpool

/// Writes result files on a second thread, with its own SQLite connection, while the engine
/// goes on processing: file creation (the kernel's share) and rendering overlap with the row
/// checks. The files are derived from committed state only, and the engine's own connection
/// records what was written (so the two threads never wait on SQLite's write lock for each
/// other): after a crash, whatever was not recorded is stale and written again.
final class ResultPipeline: @unchecked Sendable {
    private let queue = DispatchQueue(label: "massiva.results")
    private let writer: ResultWriter
    private let lock = Mutex()
    private var scheduled = false
    private var failure: Error?
    /// Written and not yet recorded: filled by the writer thread, taken by the engine.
    private var unrecorded: [ResultWriter.Written] = []
    /// Owned by `queue`: what the writer wrote and the engine has not recorded yet, so it is
    /// not written twice meanwhile.
    private var writtenNotRecorded: [RequestID: Int] = [:]
    private let chunk: Int

    init(layout: SpoolLayout, databasePath: String, files: ResultFiles, chunk: Int) throws {
        let store = try StateStore(database: try Database(path: databasePath))
        writer = ResultWriter(layout: layout, store: store, files: files)
        self.chunk = chunk
    }

    /// Asks for a refresh soon; cheap to call often (at most one is pending).
    func schedule() {
        let start = lock.withLock { () -> Bool in
            if scheduled { return false }
            scheduled = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            lock.withLock { scheduled = false }
            do {
                while true {
                    let written = try writer.write(limit: chunk, skipping: writtenNotRecorded)
                    if written.isEmpty { break }
                    for w in written { writtenNotRecorded[w.id] = w.version }
                    lock.withLock { unrecorded += written }
                }
            } catch {
                lock.withLock { failure = error }
            }
        }
    }

    /// Records, on the engine's connection, what the writer thread has written so far.
    func record(on results: ResultWriter) throws {
        let written = lock.withLock { () -> [ResultWriter.Written] in
            defer { unrecorded.removeAll() }
            return unrecorded
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
        let error = lock.withLock { () -> Error? in
            defer { failure = nil }
            return failure
        }
        if let error { throw error }
    }
}
