#if canImport(Glibc)
import Glibc
#endif

/// A directory entry's name as the kernel has it: bytes, not necessarily UTF-8.
///
/// A Swift `String` made from a name that is not UTF-8 (a Windows client's Latin-1 name, say)
/// has its bad bytes replaced by U+FFFD, and that string names no file: `lstat`, `rename` or
/// `unlink` of it fail. Entries an SI uploads are listed, examined and moved by these bytes;
/// `displayName` is only for people (logs, result files).
public struct RawFileName: Hashable, Sendable {
    /// The name's bytes, without a NUL.
    public let bytes: [UInt8]

    /// Wraps a name's bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Wraps a name given as text (its UTF-8 bytes).
    public init(_ name: String) { self.bytes = Array(name.utf8) }

    /// Whether the name is valid UTF-8.
    public var isUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

    /// A printable name: valid UTF-8 unchanged except for control characters, which appear as
    /// `%XX`, as does every byte of an invalid UTF-8 sequence (`caf%E9.csv`). Never empty for
    /// a non-empty name, and never containing `/` or NUL.
    public var displayName: String {
        if let text = String(validating: bytes, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return text
        }
        var result = ""
        var index = 0
        while index < bytes.count {
            let length = Self.validSequenceLength(bytes, at: index)
            if length > 0, !(length == 1 && (bytes[index] < 0x20 || bytes[index] == 0x7F)) {
                result += String(decoding: bytes[index..<(index + length)], as: UTF8.self)
                index += length
            } else {
                result += "%" + Self.hex(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// The length of the valid UTF-8 sequence starting at `index`, or 0 when there is none.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        let length: Int
        switch first {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        return String(validating: bytes[index..<(index + length)], as: UTF8.self) != nil ? length : 0
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    /// Runs `body` with the NUL-terminated path `directory/name`.
    func withPath<Result>(in directory: String, _ body: (UnsafePointer<CChar>) -> Result) -> Result {
        var path = Array(directory.utf8)
        path.append(UInt8(ascii: "/"))
        path.append(contentsOf: bytes)
        path.append(0)
        return path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}

extension FileSystem {
    /// The entry names of directory `path` as bytes (`opendir`/`readdir`), without `.` and
    /// `..`, in no particular order.
    public static func listDirectoryNames(_ path: String) throws(SystemError) -> [RawFileName] {
        guard let stream = opendir(path) else {
            throw SystemError("opendir", path: path, errno: .current)
        }
        defer { closedir(stream) }
        var names: [RawFileName] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemError("readdir", path: path, errno: .current) }
                return names
            }
            let bytes = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) { start in
                    Array(UnsafeBufferPointer(start: start, count: strlen(UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self))))
                }
            }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            names.append(RawFileName(bytes))
        }
    }

    /// `rename(directory/name, destination)`, the source named by its bytes.
    public static func rename(_ name: RawFileName, in directory: String, to destination: String) throws(SystemError) {
        try SystemError.check("rename", path: directory + "/" + name.displayName, otherPath: destination) {
            name.withPath(in: directory) { Glibc.rename($0, destination) }
        }
    }

    /// `unlink(directory/name)`, named by its bytes.
    public static func unlink(_ name: RawFileName, in directory: String) throws(SystemError) {
        try SystemError.check("unlink", path: directory + "/" + name.displayName) {
            name.withPath(in: directory) { Glibc.unlink($0) }
        }
    }

    /// `rmdir(directory/name)`, named by its bytes.
    public static func removeDirectory(_ name: RawFileName, in directory: String) throws(SystemError) {
        try SystemError.check("rmdir", path: directory + "/" + name.displayName) {
            name.withPath(in: directory) { rmdir($0) }
        }
    }
}

extension FileStatus {
    /// `lstat(directory/name)`, named by its bytes; never follows a symlink.
    public static func ofLink(_ name: RawFileName, in directory: String) throws(SystemError) -> FileStatus {
        var raw = stat()
        try SystemError.check("lstat", path: directory + "/" + name.displayName) {
            name.withPath(in: directory) { lstat($0, &raw) }
        }
        return FileStatus(raw)
    }
}

extension FileDescriptor {
    /// `open(directory/name, mode | options)`, named by its bytes, retried on `EINTR`.
    public static func open(_ name: RawFileName, in directory: String, _ mode: AccessMode,
                            options: OpenOptions = [.closeOnExec]) throws(SystemError) -> FileDescriptor {
        let flags = mode.rawValue | options.rawValue
        return FileDescriptor(rawValue: try SystemError.check("open", path: directory + "/" + name.displayName) {
            name.withPath(in: directory) { Glibc.open($0, flags, 0) }
        })
    }
}
