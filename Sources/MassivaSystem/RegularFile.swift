#if canImport(Glibc)
import Glibc
#endif

/// Reading a whole file that must be a regular file of bounded size: the configuration, the
/// registry's CSVs, a file given on the command line, a key file.
///
/// Opened `O_NONBLOCK` (a FIFO or a device never blocks `open` or `read`: a FIFO given as the
/// configuration would otherwise hang the daemon's start-up or a SIGHUP forever), then checked
/// with `fstat` on the descriptor itself (not the path, which may be swapped between a check
/// and the open), and read at most `limit` bytes (a path such as `/dev/zero` or a huge file
/// would otherwise be read without end).
public enum RegularFile {
    /// Why a file was not read.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// `open`, `fstat` or `read` failed.
        case system(SystemError)
        /// The path names something other than a regular file (a FIFO, a device, a directory...).
        case notRegular(FileStatus.Kind)
        /// The file has more than `limit` bytes.
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .system(let error): return "\(error)"
            case .notRegular(let kind): return "not a regular file (a \(kind.rawValue))"
            case .tooLarge(let limit): return "larger than \(limit) bytes"
            }
        }
    }

    /// The bytes of the regular file at `path`, at most `limit` of them.
    ///
    /// - Parameter followSymlinks: when false (`O_NOFOLLOW`), a symbolic link as the last
    ///   component is refused (`ELOOP`) instead of followed.
    public static func read(_ path: String, limit: Int, followSymlinks: Bool = true) throws(Failure) -> [UInt8] {
        var options: FileDescriptor.OpenOptions = [.nonBlocking, .closeOnExec, .noControllingTerminal]
        if !followSymlinks { options.insert(.noFollow) }
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(path, .readOnly, options: options)
        } catch {
            throw .system(error)
        }
        defer { try? descriptor.close() }
        do {
            let status = try descriptor.status()
            guard status.kind == .regular else { throw Failure.notRegular(status.kind) }
            let (bytes, truncated) = try descriptor.read(upTo: max(0, limit))
            if truncated { throw Failure.tooLarge(limit: limit) }
            return bytes
        } catch let error as Failure {
            throw error
        } catch let error as SystemError {
            throw .system(error)
        } catch {
            throw .system(SystemError("read", path: path, errno: .ioError))
        }
    }
}
