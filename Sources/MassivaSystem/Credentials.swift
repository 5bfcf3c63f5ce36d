#if canImport(Glibc)
import Glibc
#endif

/// The ids a process acts with on files: its effective user and group ids and its
/// supplementary groups. What `ProcessCredentials` takes and gives back.
public struct Credentials: Equatable, Sendable, CustomStringConvertible {
    /// The effective user id.
    public var userID: UInt32
    /// The effective group id.
    public var groupID: UInt32
    /// The supplementary groups, sorted, each once (as the kernel keeps them after
    /// `setgroups`, so two lists of the same groups compare equal).
    public var groups: [UInt32]

    public init(userID: UInt32, groupID: UInt32, groups: [UInt32]) {
        self.userID = userID
        self.groupID = groupID
        self.groups = Array(Set(groups)).sorted()
    }

    /// The process's own, now (`geteuid`, `getegid`, `getgroups`).
    public static func current() throws(SystemError) -> Credentials {
        let count = try SystemError.check("getgroups") { getgroups(0, nil) }
        var groups = [gid_t](repeating: 0, count: Int(count))
        let read = try SystemError.check("getgroups") { getgroups(count, &groups) }
        return Credentials(userID: UInt32(geteuid()), groupID: UInt32(getegid()), groups: groups.prefix(Int(read)).map { UInt32($0) })
    }

    /// What `user` logs in with: its user id, its primary group and the groups that list it
    /// (`getgrouplist`, as `initgroups` would set them).
    public static func of(_ user: UnixUser) throws(SystemError) -> Credentials {
        var count: Int32 = 32
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var found = count
            if getgrouplist(user.name, gid_t(user.gid), &groups, &found) != -1 {
                return Credentials(userID: user.uid, groupID: user.gid, groups: groups.prefix(Int(found)).map { UInt32($0) })
            }
            // -1 with `found` raised: the list is longer than the buffer.
            guard found > count, found <= 65536 else { throw SystemError("getgrouplist", path: user.name, errno: .invalidArgument) }
            count = found
        }
    }

    public var description: String {
        "uid \(userID), gid \(groupID), groups " + (groups.isEmpty ? "none" : groups.map(String.init).joined(separator: ","))
    }
}
