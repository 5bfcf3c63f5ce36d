#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a lock file, holding the owner's pid, to keep one daemon per
/// spool and to tell whether it is alive.
///
/// `flock` locks belong to the open file description: a second `open` of the same file,
/// even in the same process, does not share the lock. The lock goes with `release()` or
/// with the process. The file itself is never removed (removing it would race).
public struct FileLock: Hashable, Sendable {
    /// The lock file path.
    public let path: String
    /// The descriptor holding the lock.
    public let fileDescriptor: FileDescriptor

    /// Takes the lock without waiting; nil if another open file description holds it.
    /// Creates the file (mode `permissions`) if missing and writes this pid into it.
    public static func tryAcquire(_ path: String, permissions: UInt32 = 0o644) throws(SystemError) -> FileLock? {
        // Non-blocking open: a FIFO put in the lock's place fails or returns at once instead
        // of hanging the daemon's start-up (O_NONBLOCK changes nothing for a regular file).
        let fd = try FileDescriptor.open(path, .readWrite, options: [.create, .noFollow, .closeOnExec, .nonBlocking],
                                         permissions: permissions)
        if retryingOnInterrupt({ flock(fd.rawValue, LOCK_EX | LOCK_NB) }) != 0 {
            let error = Errno.current
            try? fd.close()
            if error == .wouldBlock { return nil }
            throw SystemError("flock", path: path, errno: error)
        }
        do {
            try fd.truncate(to: 0)
            try fd.seek(to: 0)
            try fd.writeAll("\(getpid())\n".utf8)
        } catch {
            try? fd.close()
            throw SystemError(error.operation, path: path, errno: error.errno)
        }
        return FileLock(path: path, fileDescriptor: fd)
    }

    /// Takes the lock, waiting at most `seconds` (on the monotonic clock) for another holder
    /// to let it go; then fails with `EWOULDBLOCK`, naming the holder's pid.
    ///
    /// For the locks a daemon shares with another process that may be stopped, not dead: a
    /// former leader paused by SIGSTOP (or a host frozen on a shared spool) keeps its `flock`
    /// for as long as it is paused, and a blocking wait would stop the new leader with it
    /// (found by FailoverTests: the new leader's recovery waited on the results lock for ever).
    public static func acquire(_ path: String, permissions: UInt32 = 0o644,
                               waitingAtMost seconds: Double) throws(SystemError) -> FileLock {
        let deadline = SystemClock.monotonic + max(0, seconds)
        while true {
            if let lock = try tryAcquire(path, permissions: permissions) { return lock }
            if SystemClock.monotonic >= deadline {
                let holder = recordedPID(path).map { "held by pid \($0)" } ?? "held by another process"
                throw SystemError("flock (\(holder), waited \(seconds) s)", path: path, errno: .wouldBlock)
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)  // 10 ms: a batch of files takes tens of ms
            _ = nanosleep(&pause, nil)
        }
    }

    /// Releases the lock (by closing its descriptor). Call once.
    public func release() throws(SystemError) {
        try fileDescriptor.close()
    }

    /// Whether some open file description holds an exclusive lock on `path` (a live
    /// daemon): tries a non-blocking shared lock and releases it at once. A missing file
    /// is not held.
    public static func isHeld(_ path: String) throws(SystemError) -> Bool {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec, .nonBlocking])
        } catch where error.errno == .noSuchFileOrDirectory {
            return false
        }
        defer { try? fd.close() }
        if retryingOnInterrupt({ flock(fd.rawValue, LOCK_SH | LOCK_NB) }) == 0 {
            return false  // closing releases the shared lock
        }
        let error = Errno.current
        if error == .wouldBlock { return true }
        throw SystemError("flock", path: path, errno: error)
    }

    /// The pid written in the lock file, if it holds one (it may be stale: check `isHeld`).
    public static func recordedPID(_ path: String) -> Int32? {
        guard let fd = try? FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec, .nonBlocking])
        else { return nil }
        defer { try? fd.close() }
        guard let contents = try? fd.read(upTo: 64) else { return nil }
        let text = String(decoding: contents.bytes, as: UTF8.self)
        return Int32(text.trimmingWhitespace())
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
