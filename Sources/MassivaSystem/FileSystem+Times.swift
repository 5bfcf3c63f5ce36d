#if canImport(Glibc)
import Glibc
#endif

extension FileSystem {
    /// `utimensat(path, {seconds, seconds}, AT_SYMLINK_NOFOLLOW)`: the access and modification
    /// times of `path` itself (a final link not followed) set to `seconds` since the epoch. For
    /// what the daemon dates from its own clock (an injected one in tests), not the system's:
    /// e.g. a refused upload kept aside, whose age `result_retention` measures. Only the owner
    /// (or `CAP_FOWNER`) may set a given time: `EPERM` otherwise.
    public static func setModificationTime(_ path: String, to seconds: Double) throws(SystemError) {
        let whole = seconds.rounded(.down)
        let time = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        try SystemError.check("utimensat", path: path) {
            withUnsafeTemporaryAllocation(of: timespec.self, capacity: 2) { times -> Int32 in
                times[0] = time
                times[1] = time
                return utimensat(AT_FDCWD, path, times.baseAddress, AT_SYMLINK_NOFOLLOW)
            }
        }
    }
}
