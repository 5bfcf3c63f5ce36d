#if canImport(Glibc)
import Glibc
#endif
import MassivaSystem

/// Files' times set from a test's clock, so a test that needs an old upload (or a new one) does
/// not read the system's clock to make it.
public enum FileTimes {
    /// Sets the access and modification times of `path` (not following a final link) to `seconds`
    /// since the epoch.
    public static func setModificationTime(_ path: String, to seconds: Double) throws {
        let whole = seconds.rounded(.down)
        let time = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        let result = withUnsafeTemporaryAllocation(of: timespec.self, capacity: 2) { times -> Int32 in
            times[0] = time
            times[1] = time
            return utimensat(AT_FDCWD, path, times.baseAddress, AT_SYMLINK_NOFOLLOW)
        }
        if result != 0 { throw Errno.current }
    }
}
