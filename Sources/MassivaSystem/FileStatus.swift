#if canImport(Glibc)
import Glibc
#endif

/// The result of `lstat`/`stat`/`fstat`: what a file is, how big, whose, and when modified.
public struct FileStatus: Equatable, Hashable, Sendable {
    /// The type of a file, from the `S_IFMT` bits of `st_mode`.
    public enum Kind: String, Equatable, Hashable, Sendable {
        /// A regular file.
        case regular
        /// A directory.
        case directory
        /// A symbolic link (only ever reported by `lstat`).
        case symlink
        /// A named pipe.
        case fifo
        /// A character device.
        case characterDevice
        /// A block device.
        case blockDevice
        /// A Unix domain socket.
        case socket
        /// Anything else.
        case unknown

        /// The kind encoded in the file-type bits of a raw `st_mode`.
        public init(mode: UInt32) {
            switch mode & 0o170000 {
            case 0o100000: self = .regular
            case 0o040000: self = .directory
            case 0o120000: self = .symlink
            case 0o010000: self = .fifo
            case 0o020000: self = .characterDevice
            case 0o060000: self = .blockDevice
            case 0o140000: self = .socket
            default: self = .unknown
            }
        }
    }

    /// The type of the file.
    public var kind: Kind
    /// Size in bytes (`st_size`).
    public var size: Int64
    /// Last modification time, seconds since the epoch with nanosecond fraction (`st_mtim`).
    public var modificationTime: Double
    /// Last status change, seconds since the epoch (`st_ctim`): set by the kernel at every write,
    /// attribute change or rename, and unlike the modification time never set by a client.
    public var changeTime: Double
    /// Inode number (`st_ino`).
    public var inode: UInt64
    /// Device containing the file (`st_dev`).
    public var device: UInt64
    /// Owner user id (`st_uid`).
    public var userID: UInt32
    /// Owner group id (`st_gid`).
    public var groupID: UInt32
    /// The raw `st_mode`: file-type bits and permission bits.
    public var mode: UInt32
    /// Number of hard links (`st_nlink`).
    public var linkCount: UInt64

    /// The permission bits of `mode` (`mode & 0o7777`).
    public var permissions: UInt32 { mode & 0o7777 }

    /// Builds a status from its parts (useful for tests and fakes).
    public init(kind: Kind, size: Int64, modificationTime: Double, inode: UInt64, device: UInt64,
                userID: UInt32, groupID: UInt32, mode: UInt32, linkCount: UInt64, changeTime: Double? = nil) {
        self.kind = kind
        self.size = size
        self.modificationTime = modificationTime
        self.changeTime = changeTime ?? modificationTime
        self.inode = inode
        self.device = device
        self.userID = userID
        self.groupID = groupID
        self.mode = mode
        self.linkCount = linkCount
    }

    /// Converts a raw `struct stat`.
    init(_ raw: stat) {
        self.init(kind: Kind(mode: UInt32(raw.st_mode)),
                  size: Int64(raw.st_size),
                  modificationTime: Double(raw.st_mtim.tv_sec) + Double(raw.st_mtim.tv_nsec) / 1e9,
                  inode: UInt64(raw.st_ino),
                  device: UInt64(raw.st_dev),
                  userID: UInt32(raw.st_uid),
                  groupID: UInt32(raw.st_gid),
                  mode: UInt32(raw.st_mode),
                  linkCount: UInt64(raw.st_nlink),
                  changeTime: Double(raw.st_ctim.tv_sec) + Double(raw.st_ctim.tv_nsec) / 1e9)
    }

    /// `lstat(path)`: the status of the directory entry itself; never follows a symlink.
    public static func ofLink(_ path: String) throws(SystemError) -> FileStatus {
        var raw = stat()
        try SystemError.check("lstat", path: path) { lstat(path, &raw) }
        return FileStatus(raw)
    }

    /// `stat(path)`: the status of the file, following symlinks.
    public static func of(_ path: String) throws(SystemError) -> FileStatus {
        var raw = stat()
        try SystemError.check("stat", path: path) { stat(path, &raw) }
        return FileStatus(raw)
    }
}
