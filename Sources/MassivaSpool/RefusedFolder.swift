import MassivaSystem

/// A tenant's `private/refused/`: what was refused unread (too large, a name that is not UTF-8,
/// a link, a FIFO, a folder), kept for the operator to look at, bounded and cleaned.
///
/// - Bounded: a regular file keeps at most its first `keptBytes` (64 KiB), copied into a file
///   of the daemon's; a folder keeps its files' first bytes, `keptBytes` in all. Kept whole, four
///   refused 50 MB uploads took 201 MB: one SI could fill the disk.
/// - Cleaned: every entry is dated from the daemon's clock when it is kept (the copies are the
///   daemon's, so it may), and `prune` removes those older than `result_retention`.
///
/// A link or a FIFO is renamed here as it is (it holds no bytes); its date stays the SI's when
/// the daemon may not change it (it is not the owner).
public struct RefusedFolder {
    public let layout: SpoolLayout
    public let tenant: String
    let log: EventLog

    /// The most bytes kept of one refused entry: enough to see what the upload was.
    public static let keptBytes = 65_536
    /// How deep a refused folder is walked, and how many of its entries at most: a folder an SI
    /// made is taken apart in bounded work, whatever it holds (the rest is removed unread).
    static let maxDepth = 8
    static let maxEntries = 10_000

    public init(layout: SpoolLayout, tenant: String, log: EventLog) {
        self.layout = layout
        self.tenant = tenant
        self.log = log
    }

    public var path: String { layout.refusedDirectory(tenant) }

    /// Keeps the entry at `source` (a claimed one, in the daemon's own claim folder) here as
    /// `name`, dated `now`, and removes `source`. Safe to repeat after a crash: a copy is made
    /// under a temporary name and renamed into place before the source goes.
    func keep(_ source: String, as name: String, now: Double) {
        let destination = path + "/" + name
        do {
            let status = try FileStatus.ofLink(source)
            switch status.kind {
            case .regular:
                try copyHead(of: source, to: destination, limit: Self.keptBytes, now: now)
                try FileSystem.unlink(source)
            case .directory:
                try keepFolder(source, as: destination, now: now)
            default:
                try FileSystem.rename(from: source, to: destination)
                try? FileSystem.setModificationTime(destination, to: now)
            }
        } catch where error.errno == .noSuchFileOrDirectory {
            return  // kept before a crash, the source already gone
        } catch {
            // Kept whole rather than lost: the operator sees it, and retention still applies.
            log.log("refused_kept_whole", ["tenant": tenant, "file": name, "error": "\(error)"])
            try? FileSystem.rename(from: source, to: destination)
        }
    }

    /// Copies at most `limit` bytes of the regular file `source` to `destination` (a file of
    /// the daemon's, mode 0600, dated `now`), through a temporary name. Returns the bytes copied.
    @discardableResult
    func copyHead(of source: String, to destination: String, limit: Int, now: Double) throws(SystemError) -> Int {
        let input = try FileDescriptor.open(source, .readOnly, options: [.noFollow, .nonBlocking, .closeOnExec])
        let bytes: [UInt8]
        do {
            bytes = try input.read(upTo: limit).bytes
            try input.close()
        } catch {
            try? input.close()
            throw error
        }
        let temporary = try AtomicFile.writeTemporary(bytes, in: path, permissions: 0o600, sync: true)
        do {
            try FileSystem.setModificationTime(temporary, to: now)
            try FileSystem.rename(from: temporary, to: destination)
        } catch {
            try? FileSystem.unlink(temporary)
            throw error
        }
        return bytes.count
    }

    /// A folder's files copied into a new folder at `destination` (their first bytes,
    /// `keptBytes` in all, in name order), then the folder removed. What cannot be removed
    /// (a subfolder the daemon may not write) goes beside it whole, as `<name>.resto`.
    private func keepFolder(_ source: String, as destination: String, now: Double) throws(SystemError) {
        do {
            try FileSystem.makeDirectory(destination, mode: 0o700)
        } catch where error.errno == .fileExists {
            // Made before a crash: filled again below.
        }
        var budget = Self.keptBytes
        var visited = 0
        let removed = takeApart(source, into: destination, depth: 0, budget: &budget, visited: &visited, now: now)
        if removed {
            try FileSystem.removeDirectory(source)
        } else {
            log.log("refused_folder_rest", ["tenant": tenant, "folder": destination])
            try FileSystem.rename(from: source, to: destination + ".resto")
        }
        try? FileSystem.setModificationTime(destination, to: now)
    }

    /// Copies and removes the entries of `folder`; true when it is left empty.
    private func takeApart(_ folder: String, into copy: String, depth: Int, budget: inout Int, visited: inout Int,
                           now: Double) -> Bool {
        guard let names = try? FileSystem.listDirectoryNames(folder) else { return false }
        var empty = true
        for entry in names.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            visited += 1
            guard let status = try? FileStatus.ofLink(entry, in: folder) else { continue }
            let inner = folder + "/" + entry.displayName
            if status.kind == .directory {
                if depth < Self.maxDepth, visited <= Self.maxEntries, entry.isUTF8 {
                    let innerCopy = copy + "/" + entry.displayName
                    _ = try? FileSystem.makeDirectory(innerCopy, mode: 0o700)
                    if takeApart(inner, into: innerCopy, depth: depth + 1, budget: &budget, visited: &visited, now: now),
                       (try? FileSystem.removeDirectory(entry, in: folder)) != nil {
                        continue
                    }
                }
                empty = false
                continue
            }
            // A name that is not UTF-8 has no path to copy it by: removed unread, like the rest
            // past the budget.
            if status.kind == .regular, budget > 0, entry.isUTF8, visited <= Self.maxEntries,
               let copied = try? copyHead(of: inner, to: copy + "/" + entry.displayName, limit: budget, now: now) {
                budget -= copied
            }
            if (try? FileSystem.unlink(entry, in: folder)) == nil { empty = false }
        }
        return empty
    }

    /// Removes every tenant's refused entries last changed before `cutoff` (`result_retention`);
    /// returns how many. An entry that cannot be removed is logged and left for the next time.
    public static func prune(_ layout: SpoolLayout, before cutoff: Double, log: EventLog) -> Int {
        let root = FileSystem.parentDirectory(of: layout.refusedDirectory("x"))
        guard let tenants = try? FileSystem.listDirectory(root) else { return 0 }
        var removed = 0
        for tenant in tenants.sorted() {
            let folder = root + "/" + tenant
            guard let entries = try? FileSystem.listDirectoryNames(folder) else { continue }
            for entry in entries {
                guard let status = try? FileStatus.ofLink(entry, in: folder), status.modificationTime < cutoff else { continue }
                do {
                    if status.kind == .directory {
                        try removeTree(entry, in: folder)
                    } else {
                        try FileSystem.unlink(entry, in: folder)
                    }
                    removed += 1
                } catch {
                    log.log("refused_prune_failed", ["tenant": tenant, "file": entry.displayName, "error": "\(error)"])
                }
            }
        }
        return removed
    }

    /// `rm -r` of `directory/name`, not following links.
    private static func removeTree(_ name: RawFileName, in directory: String) throws(SystemError) {
        let path = directory + "/" + name.displayName
        if name.isUTF8 {
            for entry in try FileSystem.listDirectoryNames(path) {
                if try FileStatus.ofLink(entry, in: path).kind == .directory {
                    try removeTree(entry, in: path)
                } else {
                    try FileSystem.unlink(entry, in: path)
                }
            }
        }
        try FileSystem.removeDirectory(name, in: directory)
    }
}
