#if canImport(Glibc)
import CGlibc
import Glibc
#endif

/// Path operations on directories and directory entries: list, create, rename, remove, sync.
public enum FileSystem {
    /// The entry names of directory `path` (`opendir`/`readdir`), without `.` and `..`,
    /// in no particular order.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let stream = opendir(path) else {
            throw SystemError("opendir", path: path, errno: .current)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemError("readdir", path: path, errno: .current) }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(cString: $0)
                }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
    }

    /// `mkdir(path, mode)`. With `intermediate`, creates missing parents too (like
    /// `mkdir -p`) and succeeds if `path` already is a directory; without it, an existing
    /// `path` fails with `EEXIST`. The mode is subject to the umask.
    public static func makeDirectory(_ path: String, mode: UInt32 = 0o755,
                                     intermediate: Bool = false) throws(SystemError) {
        if !intermediate {
            try SystemError.check("mkdir", path: path) { mkdir(path, mode_t(mode)) }
            return
        }
        if mkdir(path, mode_t(mode)) == 0 { return }
        let error = Errno.current
        switch error {
        case .fileExists:
            if (try? FileStatus.of(path))?.kind == .directory { return }
            throw SystemError("mkdir", path: path, errno: error)
        case .noSuchFileOrDirectory:
            let parent = parentDirectory(of: path)
            guard parent != path, !parent.isEmpty else {
                throw SystemError("mkdir", path: path, errno: error)
            }
            try makeDirectory(parent, mode: mode, intermediate: true)
            if mkdir(path, mode_t(mode)) == 0 { return }
            let again = Errno.current
            if again == .fileExists, (try? FileStatus.of(path))?.kind == .directory { return }
            throw SystemError("mkdir", path: path, errno: again)
        default:
            throw SystemError("mkdir", path: path, errno: error)
        }
    }

    /// `chmod(path, mode)`: sets the permission bits exactly, whatever the umask was when the
    /// entry was made (follows a symlink: use it on paths the caller made).
    public static func setPermissions(_ path: String, _ mode: UInt32) throws(SystemError) {
        try SystemError.check("chmod", path: path) { chmod(path, mode_t(mode)) }
    }

    /// `lchown(path, uid, gid)`: sets owner and group of the entry itself, never of what a
    /// symlink points to.
    public static func setOwner(_ path: String, uid: UInt32, gid: UInt32) throws(SystemError) {
        try SystemError.check("lchown", path: path) { lchown(path, uid_t(uid), gid_t(gid)) }
    }

    /// `rename(from, to)`: atomically replaces `to` if it exists (same filesystem only).
    public static func rename(from source: String, to destination: String) throws(SystemError) {
        try SystemError.check("rename", path: source, otherPath: destination) {
            Glibc.rename(source, destination)
        }
    }

    /// Renames `from` to `to` only if `to` does not exist, else fails with `EEXIST`.
    ///
    /// Uses `renameat2(RENAME_NOREPLACE)` (glibc 2.28), atomically. Where the kernel or the
    /// filesystem does not support it (`ENOSYS`, `EINVAL`) falls back to `link(from, to)`
    /// followed by `unlink(from)`: still never replaces `to`, but (for a moment) both names
    /// exist, and it does not work for directories.
    public static func renameNoReplace(from source: String, to destination: String) throws(SystemError) {
        let renameNoReplaceFlag: UInt32 = 1  // RENAME_NOREPLACE
        let result = retryingOnInterrupt {
            renameat2(AT_FDCWD, source, AT_FDCWD, destination, renameNoReplaceFlag)
        }
        if result == 0 { return }
        let error = Errno.current
        if error != .notImplemented && error != .invalidArgument {
            throw SystemError("renameat2", path: source, otherPath: destination, errno: error)
        }
        try linkThenUnlink(from: source, to: destination)
    }

    /// The fallback of `renameNoReplace`: `link` (fails with `EEXIST` if `to` exists),
    /// then `unlink(from)`.
    static func linkThenUnlink(from source: String, to destination: String) throws(SystemError) {
        try SystemError.check("link", path: source, otherPath: destination) { link(source, destination) }
        try unlink(source)
    }

    /// `unlink(path)`: removes a non-directory entry.
    public static func unlink(_ path: String) throws(SystemError) {
        try SystemError.check("unlink", path: path) { Glibc.unlink(path) }
    }

    /// `rmdir(path)`: removes an empty directory.
    public static func removeDirectory(_ path: String) throws(SystemError) {
        try SystemError.check("rmdir", path: path) { rmdir(path) }
    }

    /// Opens directory `path` and `fsync`s it, making entry creations, renames and
    /// removals in it durable.
    public static func fsyncDirectory(_ path: String) throws(SystemError) {
        let directory = try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
        do {
            try directory.sync()
        } catch {
            try? directory.close()
            throw SystemError("fsync", path: path, errno: error.errno)
        }
        try directory.close()
    }

    /// Whether a directory entry exists at `path`. By default uses `lstat`, so a dangling
    /// symlink exists; with `followSymlinks` uses `stat`. Any error (`ENOENT`, `EACCES`…)
    /// counts as absent.
    public static func exists(_ path: String, followSymlinks: Bool = false) -> Bool {
        var raw = stat()
        return followSymlinks ? stat(path, &raw) == 0 : lstat(path, &raw) == 0
    }

    /// The directory part of `path` (`"a/b/c"` → `"a/b"`, `"/a"` → `"/"`, `"a"` → `"."`),
    /// ignoring trailing slashes.
    public static func parentDirectory(of path: String) -> String {
        var characters = Substring(path)
        while characters.count > 1, characters.last == "/" { characters.removeLast() }
        guard let slash = characters.lastIndex(of: "/") else { return "." }
        var parent = characters[..<slash]
        while parent.count > 1, parent.last == "/" { parent.removeLast() }
        return parent.isEmpty ? "/" : String(parent)
    }
}
