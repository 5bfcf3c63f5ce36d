import MassivaSpool
import MassivaSystem

/// Result files being written when a process died stay in `private/tmp` (never in `results/`):
/// at start-up those whose writer is gone are removed. A live writer (an operator command
/// running now) keeps its own: a temporary name says whose it is (`.tmp.<pid>.<counter>.<random>`).
struct OrphanedTemporaryFiles {
    let directory: String

    init(layout: SpoolLayout) {
        directory = layout.temporaryDirectory
    }

    /// Removes the temporary files of processes that no longer exist. Returns how many.
    func remove() -> Int {
        guard let names = try? FileSystem.listDirectory(directory) else { return 0 }
        var removed = 0
        for name in names {
            guard let pid = Self.writer(ofTemporaryName: name) else { continue }
            if pid != CurrentProcess.id && !CurrentProcess.exists(pid) {
                if (try? FileSystem.unlink(directory + "/" + name)) != nil { removed += 1 }
            }
        }
        return removed
    }

    /// The process that made a temporary file, from its name; nil for a name of another kind.
    static func writer(ofTemporaryName name: String) -> Int32? {
        let parts = name.split(separator: ".")  // .tmp.<pid>.<counter>.<random>
        guard parts.count >= 2, parts[0] == "tmp" else { return nil }
        return Int32(parts[1])
    }
}
