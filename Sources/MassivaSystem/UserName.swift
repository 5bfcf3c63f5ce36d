#if canImport(Glibc)
import Glibc
#endif

/// Looking up user names in the password database.
public enum UserName {
    /// The login name of `uid` (`getpwuid_r`), or the uid in decimal when it has no entry
    /// or the lookup fails.
    public static func of(uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = 1024
        while size <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            // The strings in `entry` point into `buffer`: copy the name out while it lives.
            let (status, name) = buffer.withUnsafeMutableBufferPointer { storage -> (Int32, String?) in
                let status = getpwuid_r(uid_t(uid), &entry, storage.baseAddress!, storage.count, &result)
                guard status == 0, result != nil, let name = entry.pw_name else { return (status, nil) }
                return (status, String(cString: name))
            }
            if status == ERANGE {
                size *= 4
                continue
            }
            if status == EINTR { continue }
            guard let name, !name.isEmpty else { break }
            return name
        }
        return String(uid)
    }

    /// The login name of the process's real user.
    public static var current: String { of(uid: UInt32(getuid())) }
}
