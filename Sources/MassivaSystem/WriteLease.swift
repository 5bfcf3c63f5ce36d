#if canImport(Glibc)
import Glibc
#endif

/// A read lease on an open file (`fcntl(fd, F_SETLEASE, F_RDLCK)`), asked for only to learn
/// whether anyone has the file open for writing: the kernel grants a read lease only while no
/// descriptor anywhere on the machine has the file open for writing, and refuses it with
/// `EAGAIN` otherwise. Held only for the moment it takes to claim the file, then released.
///
/// Conditions (fcntl(2)): the descriptor must be open read-only; the caller must own the file or
/// have `CAP_LEASE` (else `EACCES`); the filesystem must support leases (NFS and other network
/// filesystems answer `EINVAL`: a writer on another machine is invisible to this kernel anyway),
/// and `/proc/sys/fs/leases-enable` must be 1.
///
/// While the lease is held, another process opening the file for writing (or truncating it) is
/// made to wait, and the kernel signals the holder (`SIGIO`, to the process that took the lease)
/// to let go. This process lets go within microseconds anyway, so the signal is ignored: its
/// default action would end the process. The wait is at most the time the claim takes.
public struct WriteLease: Sendable {
    /// The descriptor the lease is on (the caller's, still open: closing it also releases).
    public let fileDescriptor: FileDescriptor

    /// What asking for the lease found.
    public enum Answer: Sendable {
        /// Nobody has the file open for writing; the lease is held until `release()`.
        case noWriter(WriteLease)
        /// Someone has the file open for writing (`EAGAIN`).
        case writerOpen
        /// Leases cannot tell here (no `CAP_LEASE`, a network filesystem, leases disabled).
        case unavailable(SystemError)
    }

    // Linux's values (fcntl.h, F_LINUX_SPECIFIC_BASE + 0; F_RDLCK, F_UNLCK): Swift's Glibc
    // module is built without _GNU_SOURCE and does not declare F_SETLEASE.
    static let setLease: Int32 = 1024
    static let readLock: Int32 = 0
    static let unlock: Int32 = 2

    /// `SIGIO` ignored once per process, before the first lease (see the type's comment).
    private static let breakSignalIgnored: Bool = {
        Signal(rawValue: SIGIO).ignore()
        return true
    }()

    /// Asks for a read lease on `fileDescriptor`, which must be open read-only.
    public static func ask(on fileDescriptor: FileDescriptor) -> Answer {
        _ = breakSignalIgnored
        while true {
            if fcntl(fileDescriptor.rawValue, setLease, readLock) == 0 {
                return .noWriter(WriteLease(fileDescriptor: fileDescriptor))
            }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock { return .writerOpen }
            return .unavailable(SystemError("fcntl(F_SETLEASE)", errno: error))
        }
    }

    /// Lets the lease go (`F_UNLCK`); a writer waiting to open the file goes on. Closing the
    /// descriptor does the same.
    public func release() {
        _ = fcntl(fileDescriptor.rawValue, Self.setLease, Self.unlock)
    }

    /// Whether leases work for this process on the filesystem of `directory`: a file of its own
    /// is made there, leased and removed. Nil when they work, else why not. It cannot tell
    /// whether this process may lease other users' files (that needs `CAP_LEASE`): the first
    /// such file does.
    public static func unavailability(in directory: String) -> SystemError? {
        let path = directory + "/.lease-probe-\(getpid())"
        do {
            let writer = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .noFollow, .closeOnExec],
                                                 permissions: 0o600)
            try writer.close()
            defer { try? FileSystem.unlink(path) }
            let reader = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec, .nonBlocking])
            defer { try? reader.close() }
            switch ask(on: reader) {
            case .noWriter(let lease):
                lease.release()
                return nil
            case .writerOpen:
                return SystemError("fcntl(F_SETLEASE)", path: path, errno: .wouldBlock)
            case .unavailable(let error):
                return SystemError(error.operation, path: path, errno: error.errno)
            }
        } catch {
            return error
        }
    }
}
