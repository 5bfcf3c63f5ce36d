#if canImport(Glibc)
import Glibc
#endif

/// The process's user and group ids, and the ways massiva changes them.
///
/// Operator commands run as root take the identity of the spool's owner before they touch the
/// spool, as Postfix's `postsuper` does, so nothing they create is root's: a root-owned
/// database journal or result folder would stop the non-root daemon.
public enum ProcessCredentials {
    /// The effective user id.
    public static var effectiveUserID: UInt32 { UInt32(geteuid()) }
    /// The effective group id.
    public static var effectiveGroupID: UInt32 { UInt32(getegid()) }
    /// Whether the process runs with root's user id.
    public static var isRoot: Bool { geteuid() == 0 }

    /// Becomes `user` for good: its groups (`initgroups`), then its group id, then its user id
    /// (`setgid`/`setuid` as root set the real, effective and saved ids, so root cannot be
    /// regained). Checked afterwards.
    public static func become(_ user: UnixUser) throws(SystemError) {
        try SystemError.check("initgroups", path: user.name) { initgroups(user.name, gid_t(user.gid)) }
        try SystemError.check("setgid") { setgid(gid_t(user.gid)) }
        try SystemError.check("setuid") { setuid(uid_t(user.uid)) }
        if user.uid != 0 && setuid(0) == 0 {
            // The kernel let root back in: never carry on half-dropped.
            throw SystemError("setuid", errno: .notPermitted)
        }
    }

    /// Runs `body` with effective ids `uid`/`gid` (files it creates are theirs), then returns
    /// to the ids before, also when `body` throws. The real and saved ids stay root's, so this
    /// is for root commands that create spool state between steps only root may take.
    public static func withEffectiveIDs<Result>(uid: UInt32, gid: UInt32, _ body: () throws -> Result) throws -> Result {
        let (oldUID, oldGID) = (geteuid(), getegid())
        if oldUID == uid_t(uid) && oldGID == gid_t(gid) { return try body() }
        try SystemError.check("setegid") { setegid(gid_t(gid)) }
        do {
            try SystemError.check("seteuid") { seteuid(uid_t(uid)) }
        } catch {
            _ = setegid(oldGID)
            throw error
        }
        defer {
            // Back to root first: only root may set any group id again.
            _ = seteuid(oldUID)
            _ = setegid(oldGID)
        }
        return try body()
    }
}
