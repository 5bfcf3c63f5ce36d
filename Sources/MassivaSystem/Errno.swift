#if canImport(Glibc)
import Glibc
#endif

/// A POSIX error number, as found in `errno` after a failed system call.
///
/// `description` is the `strerror` text, e.g. `No such file or directory`.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible, RawRepresentable {
    /// The raw `errno` value.
    public let rawValue: Int32

    /// Wraps a raw `errno` value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Wraps a raw `errno` value.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The `strerror` text for this error number.
    public var description: String {
        // glibc ≥ 2.32: strerror returns static text for known errors and a
        // thread-local buffer for unknown ones, so it is safe to call from any thread.
        guard let text = strerror(rawValue) else { return "Unknown error \(rawValue)" }
        return String(cString: text)
    }

    /// `EPERM`: operation not permitted.
    public static let notPermitted = Errno(EPERM)
    /// `ENOENT`: no such file or directory.
    public static let noSuchFileOrDirectory = Errno(ENOENT)
    /// `EINTR`: interrupted system call.
    public static let interrupted = Errno(EINTR)
    /// `EIO`: input/output error.
    public static let ioError = Errno(EIO)
    /// `ENXIO`: no such device or address (e.g. opening a FIFO for writing with no reader).
    public static let noSuchDeviceOrAddress = Errno(ENXIO)
    /// `EBADF`: bad file descriptor.
    public static let badFileDescriptor = Errno(EBADF)
    /// `EAGAIN` (= `EWOULDBLOCK`): resource temporarily unavailable.
    public static let wouldBlock = Errno(EAGAIN)
    /// `EACCES`: permission denied.
    public static let permissionDenied = Errno(EACCES)
    /// `EBUSY`: device or resource busy.
    public static let resourceBusy = Errno(EBUSY)
    /// `EEXIST`: file exists.
    public static let fileExists = Errno(EEXIST)
    /// `EXDEV`: invalid cross-device link.
    public static let crossDeviceLink = Errno(EXDEV)
    /// `ENOTDIR`: not a directory.
    public static let notDirectory = Errno(ENOTDIR)
    /// `EISDIR`: is a directory.
    public static let isDirectory = Errno(EISDIR)
    /// `EINVAL`: invalid argument.
    public static let invalidArgument = Errno(EINVAL)
    /// `ENOSPC`: no space left on device.
    public static let noSpace = Errno(ENOSPC)
    /// `ENAMETOOLONG`: file name too long.
    public static let nameTooLong = Errno(ENAMETOOLONG)
    /// `ENOSYS`: function not implemented.
    public static let notImplemented = Errno(ENOSYS)
    /// `ENOTEMPTY`: directory not empty.
    public static let directoryNotEmpty = Errno(ENOTEMPTY)
    /// `ELOOP`: too many levels of symbolic links (also: `O_NOFOLLOW` met a symlink).
    public static let tooManySymbolicLinks = Errno(ELOOP)
    /// `ECONNREFUSED`: connection refused (e.g. nobody bound the notify socket).
    public static let connectionRefused = Errno(ECONNREFUSED)
    /// `EROFS`: read-only file system.
    public static let readOnlyFileSystem = Errno(EROFS)
    /// `EDQUOT`: disk quota exceeded.
    public static let quotaExceeded = Errno(EDQUOT)
}

/// A failed system call: the operation, the path(s) it was applied to, and the `errno`.
///
/// `description` reads like `open("/x/y"): No such file or directory`, or
/// `rename("/a", "/b"): File exists`, or `fsync: Bad file descriptor` when no path applies.
public struct SystemError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The name of the system call or operation, e.g. `open`.
    public let operation: String
    /// The path the operation was applied to, if any.
    public let path: String?
    /// A second path (the destination of a rename or link), if any.
    public let otherPath: String?
    /// The error number.
    public let errno: Errno

    /// Describes a failed operation.
    public init(_ operation: String, path: String? = nil, otherPath: String? = nil, errno: Errno) {
        self.operation = operation
        self.path = path
        self.otherPath = otherPath
        self.errno = errno
    }

    /// `operation("path"[, "otherPath"]): strerror text`.
    public var description: String {
        var text = operation
        if let path {
            text += "(\"\(path)\""
            if let otherPath { text += ", \"\(otherPath)\"" }
            text += ")"
        }
        return text + ": " + errno.description
    }

    /// Runs `body` (a system call returning -1 on failure with `errno` set) and returns its
    /// result, retrying while it fails with `EINTR` (unless `retryOnInterrupt` is false),
    /// and throwing a `SystemError` for any other failure.
    @discardableResult
    public static func check<Result: FixedWidthInteger>(
        _ operation: String, path: String? = nil, otherPath: String? = nil,
        retryOnInterrupt: Bool = true, _ body: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = body()
            if result != -1 { return result }
            let error = Errno.current
            if retryOnInterrupt && error == .interrupted { continue }
            throw SystemError(operation, path: path, otherPath: otherPath, errno: error)
        }
    }
}

/// Runs `body` (a system call returning -1 on failure with `errno` set) until it
/// does not fail with `EINTR`, and returns its last result (possibly -1 with `errno` set).
@inlinable
public func retryingOnInterrupt<Result: FixedWidthInteger>(_ body: () -> Result) -> Result {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
