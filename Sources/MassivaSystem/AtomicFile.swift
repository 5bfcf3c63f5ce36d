#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writing whole files atomically: write a temporary file, then `rename` it onto the
/// destination, so readers see either the old content or the new, never a partial file.
///
/// The temporary directory must be on the same filesystem as the destination (a private
/// `tmp` directory in the spool), since `rename` does not cross filesystems.
public enum AtomicFile {
    /// Writes `bytes` to `destination`, replacing any existing file.
    ///
    /// Creates a uniquely named file in `temporaryDirectory` (`O_EXCL`, `O_NOFOLLOW`), writes
    /// it, `fsync`s it if `durable`, renames it onto `destination`, and then, if `durable`,
    /// `fsync`s the destination's directory. On failure the temporary file is removed.
    public static func write<Bytes: Sequence>(
        _ bytes: Bytes, to destination: String, temporaryDirectory: String,
        permissions: UInt32 = 0o644, durable: Bool = true
    ) throws(SystemError) where Bytes.Element == UInt8 {
        let temporary = try writeTemporary(bytes, in: temporaryDirectory, permissions: permissions,
                                           sync: durable)
        do {
            try FileSystem.rename(from: temporary, to: destination)
        } catch {
            _ = Glibc.unlink(temporary)
            throw error
        }
        if durable { try FileSystem.fsyncDirectory(FileSystem.parentDirectory(of: destination)) }
    }

    /// Creates a uniquely named file in `directory` holding `bytes`, optionally `fsync`ed,
    /// and returns its path. On failure nothing is left behind.
    public static func writeTemporary<Bytes: Sequence>(
        _ bytes: Bytes, in directory: String, permissions: UInt32 = 0o644, sync: Bool = false
    ) throws(SystemError) -> String where Bytes.Element == UInt8 {
        while true {
            let path = directory + "/" + TemporaryName.make()
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(
                    path, .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                    permissions: permissions)
            } catch where error.errno == .fileExists {
                continue  // astronomically unlikely: another random suffix
            }
            do {
                // Exact modes, not the umask's: under systemd's UMask=0027 a 0644 file would
                // become 0640, and the SI (not in the daemon's group) could not read it.
                try fd.setPermissions(permissions)
                try fd.writeAll(bytes)
                if sync { try fd.sync() }
            } catch {
                try? fd.close()
                _ = Glibc.unlink(path)
                throw SystemError(error.operation, path: path, errno: error.errno)
            }
            do {
                try fd.close()
            } catch {
                _ = Glibc.unlink(path)
                throw SystemError("close", path: path, errno: error.errno)
            }
            return path
        }
    }
}

/// Unique names for temporary files: `.tmp.<pid>.<counter>.<random>`, unique across the
/// processes sharing a directory and across threads of one process.
public enum TemporaryName {
    private static let counter = Counter()

    /// A fresh name (no directory part), starting with `.tmp.`.
    public static func make() -> String {
        let random = UInt64.random(in: 0...UInt64.max)
        return ".tmp.\(getpid()).\(counter.next()).\(String(random, radix: 16))"
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value: UInt64 = 0

        func next() -> UInt64 {
            lock.lock()
            defer { lock.unlock() }
            value &+= 1
            return value
        }
    }
}

/// Many atomic file writes made durable together, for throughput.
///
/// `stage` writes each file's bytes to a temporary file right away (no `fsync`). `commit`
/// then makes them all durable with ONE `syncfs` of the temporary directory's filesystem,
/// renames each onto its destination, and `fsync`s each distinct destination directory
/// once. After a crash, each destination holds either its old content or its complete new
/// content.
///
/// A value type; do not commit two copies of the same batch.
public struct AtomicFileBatch: Sendable {
    /// One staged file: its temporary path and its final path.
    public struct Entry: Equatable, Hashable, Sendable {
        /// Path of the written temporary file.
        public let temporaryPath: String
        /// Path it will be renamed to.
        public let finalPath: String
    }

    /// The directory the temporary files are written in (same filesystem as destinations).
    public let temporaryDirectory: String
    /// Permission bits of the created files (before umask).
    public let permissions: UInt32
    /// Files staged and not yet committed or discarded, in staging order.
    public private(set) var entries: [Entry] = []

    /// A batch writing temporary files into `temporaryDirectory`.
    public init(temporaryDirectory: String, permissions: UInt32 = 0o644) {
        self.temporaryDirectory = temporaryDirectory
        self.permissions = permissions
    }

    /// Number of staged files.
    public var count: Int { entries.count }

    /// Whether nothing is staged.
    public var isEmpty: Bool { entries.isEmpty }

    /// Writes `bytes` to a new temporary file destined for `finalPath`.
    public mutating func stage<Bytes: Sequence>(_ bytes: Bytes, to finalPath: String) throws(SystemError)
    where Bytes.Element == UInt8 {
        let temporary = try AtomicFile.writeTemporary(bytes, in: temporaryDirectory,
                                                      permissions: permissions, sync: false)
        entries.append(Entry(temporaryPath: temporary, finalPath: finalPath))
    }

    /// Stages a file already written at `temporaryPath` in the temporary directory (a list
    /// streamed there row by row).
    public mutating func stage(temporaryFile temporaryPath: String, to finalPath: String) {
        entries.append(Entry(temporaryPath: temporaryPath, finalPath: finalPath))
    }

    /// Makes all staged files durable and visible at their final paths.
    ///
    /// If `durable`: one `syncfs` on the temporary directory's filesystem, then the
    /// renames, then one `fsync` per distinct destination directory. Without `durable`,
    /// only the renames. On a rename failure, directories of the files already renamed are
    /// still synced, the failed and remaining entries stay staged (see `discard`), and the
    /// error is thrown.
    public mutating func commit(durable: Bool = true) throws(SystemError) {
        guard !entries.isEmpty else { return }
        if durable {
            let directory = try FileDescriptor.open(temporaryDirectory, .readOnly,
                                                    options: [.directory, .closeOnExec])
            do {
                try directory.syncFileSystem()
            } catch {
                try? directory.close()
                throw SystemError("syncfs", path: temporaryDirectory, errno: error.errno)
            }
            try directory.close()
        }
        var directories: [String] = []
        var seen = Set<String>()
        var renamed = 0
        var failure: SystemError?
        for entry in entries {
            do {
                try FileSystem.rename(from: entry.temporaryPath, to: entry.finalPath)
            } catch {
                failure = error
                break
            }
            renamed += 1
            let parent = FileSystem.parentDirectory(of: entry.finalPath)
            if seen.insert(parent).inserted { directories.append(parent) }
        }
        entries.removeFirst(renamed)
        if durable && renamed > 0 {
            // The renames' directory entries: one fsync for a single directory, else one more
            // syncfs, which is cheaper than an fsync per directory when a batch spans many.
            do {
                if directories.count == 1 {
                    try FileSystem.fsyncDirectory(directories[0])
                } else {
                    let directory = try FileDescriptor.open(temporaryDirectory, .readOnly, options: [.directory, .closeOnExec])
                    defer { try? directory.close() }
                    try directory.syncFileSystem()
                }
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// Removes the temporary files of all staged entries and forgets them.
    public mutating func discard() {
        for entry in entries { _ = Glibc.unlink(entry.temporaryPath) }
        entries.removeAll()
    }
}
