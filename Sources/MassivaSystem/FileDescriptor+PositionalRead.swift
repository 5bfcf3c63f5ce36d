#if canImport(Glibc)
import Glibc
#endif

extension FileDescriptor {
    /// Up to `count` bytes from `offset` (`pread`, retried on `EINTR`), without moving the
    /// file's offset: fewer at the end of the file.
    public func read(at offset: Int64, count: Int) throws(SystemError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let fd = rawValue
        let read = try SystemError.check("pread") {
            bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        }
        bytes.removeLast(count - read)
        return bytes
    }
}
