#if canImport(Glibc)
import Glibc
#endif

/// An entry of the password database (`getpwnam_r` / `getpwuid_r`).
public struct UnixUser: Equatable, Sendable {
    /// The login name.
    public var name: String
    /// The user id.
    public var uid: UInt32
    /// The primary group id.
    public var gid: UInt32
    /// The GECOS field: for an SI account, the person's name.
    public var gecos: String
    /// The home directory.
    public var home: String

    /// The entry of login `name`, or nil when there is none.
    public static func named(_ name: String) -> UnixUser? {
        lookUp { entry, buffer, result in getpwnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result) }
    }

    /// The entry of user id `uid`, or nil when there is none.
    public static func withID(_ uid: UInt32) -> UnixUser? {
        lookUp { entry, buffer, result in getpwuid_r(uid_t(uid), &entry, buffer.baseAddress!, buffer.count, &result) }
    }

    private static func lookUp(
        _ call: (inout passwd, UnsafeMutableBufferPointer<CChar>, inout UnsafeMutablePointer<passwd>?) -> Int32
    ) -> UnixUser? {
        var size = 1024
        while size <= 1 << 20 {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: size)
            // The strings in `entry` point into `buffer`: copy them out while it lives.
            let (status, user) = buffer.withUnsafeMutableBufferPointer { storage -> (Int32, UnixUser?) in
                let status = call(&entry, storage, &result)
                guard status == 0, result != nil else { return (status, nil) }
                return (0, UnixUser(name: text(entry.pw_name), uid: UInt32(entry.pw_uid), gid: UInt32(entry.pw_gid),
                                    gecos: text(entry.pw_gecos), home: text(entry.pw_dir)))
            }
            if status == ERANGE { size *= 4; continue }
            if status == EINTR { continue }
            return user
        }
        return nil
    }
}

/// An entry of the group database (`getgrnam_r` / `getgrgid_r`).
public struct UnixGroup: Equatable, Sendable {
    /// The group name.
    public var name: String
    /// The group id.
    public var gid: UInt32
    /// The logins listed as members (not those whose primary group it is).
    public var members: [String]

    /// The entry of group `name`, or nil when there is none.
    public static func named(_ name: String) -> UnixGroup? {
        lookUp { entry, buffer, result in getgrnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result) }
    }

    /// The entry of group id `gid`, or nil when there is none.
    public static func withID(_ gid: UInt32) -> UnixGroup? {
        lookUp { entry, buffer, result in getgrgid_r(gid_t(gid), &entry, buffer.baseAddress!, buffer.count, &result) }
    }

    private static func lookUp(
        _ call: (inout group, UnsafeMutableBufferPointer<CChar>, inout UnsafeMutablePointer<group>?) -> Int32
    ) -> UnixGroup? {
        var size = 4096
        while size <= 1 << 22 {
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            var buffer = [CChar](repeating: 0, count: size)
            let (status, found) = buffer.withUnsafeMutableBufferPointer { storage -> (Int32, UnixGroup?) in
                let status = call(&entry, storage, &result)
                guard status == 0, result != nil else { return (status, nil) }
                var members: [String] = []
                if var pointer = entry.gr_mem {
                    while let member = pointer.pointee {
                        members.append(String(cString: member))
                        pointer += 1
                    }
                }
                return (0, UnixGroup(name: text(entry.gr_name), gid: UInt32(entry.gr_gid), members: members))
            }
            if status == ERANGE { size *= 4; continue }
            if status == EINTR { continue }
            return found
        }
        return nil
    }
}

private func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}
