#if canImport(Glibc)
import Glibc
#endif

/// The process's user and group ids, and the ways massiva changes them.
///
/// Operator commands run as root take the identity of the spool's owner before they touch the
/// spool, as Postfix's `postsuper` does, so nothing they create is root's: a root-owned
/// database journal or result folder would stop the non-root daemon. A change of ids that fails
/// halfway is never carried on from: `assume` undoes what it did, and a failed return to the
/// ids before (`withEffective`) ends the process.
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

    /// Takes `target` as the effective ids and groups; the real and saved user ids stay, so
    /// `withEffective` can return to the caller's for a moment. On failure what was changed is
    /// put back (and if even that fails, the process ends) and the error is thrown.
    public static func assume(_ target: Credentials) throws(SystemError) {
        let before: Credentials
        do { before = try Credentials.current() } catch { throw error }
        do { try set(target) } catch {
            restore(before, after: error)
            throw error
        }
    }

    /// Runs `body` with `target`'s effective ids and groups (files it creates are theirs), then
    /// returns to the ids before, also when `body` throws. A failure to change the ids, either
    /// way, ends the process with a message on standard error: going on would make the spool's
    /// files root's, or write the operator's files as the spool's owner.
    public static func withEffective<Result>(_ target: Credentials, _ body: () throws -> Result) rethrows -> Result {
        let before: Credentials
        do { before = try Credentials.current() } catch { fatal("cannot read the process's ids: \(error)") }
        if before == target { return try body() }
        do { try set(target) } catch {
            restore(before, after: error)
            fatal("cannot take the ids \(target): \(error)")
        }
        defer { restore(before, after: nil) }
        return try body()
    }

    /// Sets the effective ids and groups to `target`: root's user id first (only root may set
    /// the groups and any group id; possible while the saved user id is root's), then the
    /// groups, the group id and the user id. Checked afterwards.
    static func set(_ target: Credentials) throws(SystemError) {
        if geteuid() != 0 { try SystemError.check("seteuid") { seteuid(0) } }
        let groups = target.groups.map { gid_t($0) }
        try SystemError.check("setgroups") { setgroups(groups.count, groups) }
        try SystemError.check("setegid") { setegid(gid_t(target.groupID)) }
        try SystemError.check("seteuid") { seteuid(uid_t(target.userID)) }
        guard (try? Credentials.current()) == target else { throw SystemError("seteuid", errno: .notPermitted) }
    }

    /// Back to `before` (nothing to do when a failed `set` changed nothing), or the end of the
    /// process.
    private static func restore(_ before: Credentials, after failure: SystemError?) {
        if (try? Credentials.current()) == before { return }
        do { try set(before) } catch {
            fatal("cannot return to the ids \(before)" + (failure.map { " after \($0)" } ?? "") + ": \(error)")
        }
    }

    /// Says why and ends the process (status 1), with no further step taken under ids that are
    /// not the ones the code expects.
    private static func fatal(_ message: String) -> Never {
        StandardError.write("massiva: \(message); stopping here rather than go on with the wrong identity")
        CurrentProcess.exit(1)
    }
}
