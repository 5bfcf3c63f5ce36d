#if canImport(Glibc)
import CGlibc
import Glibc
#endif

/// An open file descriptor: a thin typed wrapper over the raw `Int32`.
///
/// A value type, like `swift-system`'s: copying it does not duplicate the descriptor, and it
/// is never closed implicitly. Close it exactly once with `close()` (or use `closeAfter`).
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    /// The raw descriptor number.
    public let rawValue: Int32

    /// Wraps a raw descriptor number (takes no ownership decisions).
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Descriptor 0.
    public static let standardInput = FileDescriptor(rawValue: 0)
    /// Descriptor 1.
    public static let standardOutput = FileDescriptor(rawValue: 1)
    /// Descriptor 2.
    public static let standardError = FileDescriptor(rawValue: 2)

    /// The access mode of `open`: `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    public struct AccessMode: RawRepresentable, Hashable, Sendable {
        /// The raw `O_ACCMODE` bits.
        public let rawValue: Int32
        /// Wraps raw access-mode bits.
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// `O_RDONLY`.
        public static let readOnly = AccessMode(rawValue: O_RDONLY)
        /// `O_WRONLY`.
        public static let writeOnly = AccessMode(rawValue: O_WRONLY)
        /// `O_RDWR`.
        public static let readWrite = AccessMode(rawValue: O_RDWR)
    }

    /// Flags of `open` other than the access mode.
    public struct OpenOptions: OptionSet, Hashable, Sendable {
        /// The raw `O_*` bits.
        public let rawValue: Int32
        /// Wraps raw `O_*` bits.
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// `O_CREAT`: create the file if missing (give `permissions`).
        public static let create = OpenOptions(rawValue: O_CREAT)
        /// `O_EXCL`: with `create`, fail with `EEXIST` if the file exists.
        public static let exclusiveCreate = OpenOptions(rawValue: O_EXCL)
        /// `O_TRUNC`: truncate to zero length.
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        /// `O_APPEND`: every write appends.
        public static let append = OpenOptions(rawValue: O_APPEND)
        /// `O_NOFOLLOW`: fail with `ELOOP` if the last path component is a symlink.
        public static let noFollow = OpenOptions(rawValue: O_NOFOLLOW)
        /// `O_CLOEXEC`: close on `exec`.
        public static let closeOnExec = OpenOptions(rawValue: O_CLOEXEC)
        /// `O_NONBLOCK`: never block in `open` (FIFOs) nor in reads/writes on pipes/devices.
        public static let nonBlocking = OpenOptions(rawValue: O_NONBLOCK)
        /// `O_DIRECTORY`: fail with `ENOTDIR` unless the path is a directory.
        public static let directory = OpenOptions(rawValue: O_DIRECTORY)
        /// `O_NOCTTY`: never become the controlling terminal.
        public static let noControllingTerminal = OpenOptions(rawValue: O_NOCTTY)
        /// `O_NOATIME`: do not update the access time (owner or privileged only).
        public static let noAccessTime = OpenOptions(rawValue: 0o1000000)
    }

    /// `open(path, mode | options, permissions)`, retried on `EINTR`.
    ///
    /// Opening a FIFO with `.nonBlocking` for reading returns at once (no writer needed).
    /// - Parameter permissions: the mode for a file created by `.create` (before umask).
    public static func open(_ path: String, _ mode: AccessMode,
                            options: OpenOptions = [.closeOnExec],
                            permissions: UInt32 = 0o644) throws(SystemError) -> FileDescriptor {
        let flags = mode.rawValue | options.rawValue
        let fd = try SystemError.check("open", path: path) {
            Glibc.open(path, flags, mode_t(permissions))
        }
        return FileDescriptor(rawValue: fd)
    }

    /// `fchmod(fd, mode)`: the permission bits exactly, not what the umask left of them.
    public func setPermissions(_ mode: UInt32) throws(SystemError) {
        try SystemError.check("fchmod") { fchmod(rawValue, mode_t(mode)) }
    }

    /// `close(fd)`. Never retried on `EINTR` (on Linux the descriptor is gone either way).
    ///
    /// `EBADF` (nothing open under this number) is a mistake of the program, not of the system:
    /// a copy of this value closed already, or a number never opened. A debug build (the tests'
    /// processes, and the `massiva` they run) stops there. When the number was opened again in
    /// between, by this thread or another, the second close succeeds on someone else's file (an
    /// SQLite WAL's next write then fails with EBADF, 778 at COMMIT): nothing can tell that case.
    public func close() throws(SystemError) {
        if Glibc.close(rawValue) == -1 {
            let error = Errno.current
            if error == .interrupted { return }
            assert(error != .badFileDescriptor, "close(\(rawValue)): not open, closed twice?")
            throw SystemError("close", errno: error)
        }
    }

    /// Runs `body` with this descriptor, then closes it (also when `body` throws).
    /// An error from `close` itself is ignored if `body` threw.
    public func closeAfter<Result>(_ body: (FileDescriptor) throws -> Result) throws -> Result {
        let result: Result
        do {
            result = try body(self)
        } catch {
            try? close()
            throw error
        }
        try close()
        return result
    }

    /// One `read(2)` into `buffer`, retried on `EINTR`. Returns the count read (0 at end of file).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try SystemError.check("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Reads from the current offset to end of file, but at most `limit` bytes.
    ///
    /// Returns the bytes and whether the file held more than `limit` bytes (then `bytes`
    /// holds exactly the first `limit`). A FIFO opened `.nonBlocking` without a writer
    /// reads as empty; one with a writer but no data throws `EAGAIN`.
    public func read(upTo limit: Int) throws(SystemError) -> (bytes: [UInt8], truncated: Bool) {
        precondition(limit >= 0, "negative read limit")
        var hint = 64 * 1024
        var raw = stat()
        if fstat(rawValue, &raw) == 0, (raw.st_mode & 0o170000) == 0o100000, raw.st_size > 0 {
            hint = Int(raw.st_size) + 1
        }
        // Read one byte past the limit to tell "exactly limit" from "more than limit".
        let wanted = limit == Int.max ? Int.max : limit + 1
        var bytes = [UInt8]()
        bytes.reserveCapacity(Swift.min(hint, wanted))
        let chunk = Swift.max(4096, Swift.min(hint, 1 << 20))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while bytes.count < wanted {
            let count = try read(into: UnsafeMutableRawBufferPointer(
                rebasing: buffer[0..<Swift.min(chunk, wanted - bytes.count)]))
            if count == 0 { break }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        if bytes.count > limit {
            bytes.removeLast(bytes.count - limit)
            return (bytes, true)
        }
        return (bytes, false)
    }

    /// One `write(2)` from `buffer`, retried on `EINTR`. Returns the count written.
    public func write(from buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        try SystemError.check("write") { Glibc.write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes all of `buffer`, looping over short writes and `EINTR`.
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < buffer.count {
            offset += try write(from: UnsafeRawBufferPointer(rebasing: buffer[offset...]))
        }
    }

    /// Writes all of `bytes` (an `Array`, `Data`, `String.UTF8View`…), looping over short writes.
    public func writeAll<Bytes: Sequence>(_ bytes: Bytes) throws(SystemError) where Bytes.Element == UInt8 {
        // The closures of withContiguousStorageIfAvailable/withUnsafeBytes are untyped
        // `rethrows`: carry the typed error out as a value.
        let outcome: Result<Void, SystemError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(SystemError) in try writeAll(UnsafeRawBufferPointer(buffer)) }
        }
        if let outcome { return try outcome.get() }
        try Array(bytes).withUnsafeBytes { buffer in
            Result { () throws(SystemError) in try writeAll(buffer) }
        }.get()
    }

    /// `fsync(fd)`: flush data and metadata to stable storage.
    public func sync() throws(SystemError) {
        try SystemError.check("fsync") { fsync(rawValue) }
    }

    /// `fdatasync(fd)`: flush data (and the metadata needed to read it back).
    public func dataSync() throws(SystemError) {
        try SystemError.check("fdatasync") { fdatasync(rawValue) }
    }

    /// `syncfs(fd)`: flush the whole filesystem containing this file (glibc 2.14).
    public func syncFileSystem() throws(SystemError) {
        try SystemError.check("syncfs") { syncfs(rawValue) }
    }

    /// `fstat(fd)`.
    public func status() throws(SystemError) -> FileStatus {
        var raw = stat()
        try SystemError.check("fstat") { fstat(rawValue, &raw) }
        return FileStatus(raw)
    }

    /// `ftruncate(fd, length)`.
    public func truncate(to length: Int64) throws(SystemError) {
        try SystemError.check("ftruncate") { ftruncate(rawValue, off_t(length)) }
    }

    /// `lseek(fd, offset, SEEK_SET)`: moves the file offset; returns the new offset.
    @discardableResult
    public func seek(to offset: Int64) throws(SystemError) -> Int64 {
        Int64(try SystemError.check("lseek") { lseek(rawValue, off_t(offset), SEEK_SET) })
    }
}
