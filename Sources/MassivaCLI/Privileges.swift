import MassivaSpool
import MassivaSystem

/// The one owner of a command's identity: who owns the spool, the one switch made before the
/// command's body (`enter`), and the moments a command acts as someone else (`asSpoolOwner` for
/// root's commands, `caller` for the operator's files). A failed switch is an error before
/// anything is done; a failed return to the ids before ends the process.
final class Privileges {
    /// The caller's login name, read before any switch: who submitted a file or ran a service.
    let callerName = UserName.current
    /// What the command declared, once entered; nil before.
    private(set) var entered: Privilege?
    /// The caller's identity for the files named on the command line (see
    /// `Privilege.spoolOwnerWritingCallerFiles`); `.current` when the process is the caller.
    private(set) var caller = CallerIdentity.current
    private var owner: UnixUser??

    /// The user a command must act as on the spool when run as root: the owner of `private/`,
    /// unless that is root itself or the folder does not exist yet (then the spool is root's).
    /// Nil when not running as root.
    func spoolOwner(_ layout: SpoolLayout) throws -> UnixUser? {
        if let owner { return owner }
        var found: UnixUser?
        if ProcessCredentials.isRoot {
            if let status = try? FileStatus.ofLink(layout.privateDirectory), status.userID != 0 {
                guard status.kind == .directory else { throw CLIError("the spool's private folder is not a folder") }
                guard let user = UnixUser.withID(status.userID) else {
                    throw CLIError("the spool's private folder belongs to uid \(status.userID), which is no user of this system")
                }
                found = user
            }
        }
        owner = .some(found)
        return found
    }

    /// The one switch, before the command's body runs (see `Privilege`). `layout` is the spool's,
    /// read only to find its owner (nothing is created).
    func enter(_ privilege: Privilege, layout: () throws -> SpoolLayout) throws {
        precondition(entered == nil, "the identity is switched once")
        switch privilege {
        case .none, .root:
            break
        case .spoolOwner:
            if let owner = try spoolOwner(layout()) {
                do { try ProcessCredentials.become(owner) } catch { throw cannotBecome(owner, error) }
            }
        case .spoolOwnerWritingCallerFiles:
            if let owner = try spoolOwner(layout()) {
                do {
                    let callerCredentials = try Credentials.current()
                    try ProcessCredentials.assume(try Credentials.of(owner))
                    caller = CallerIdentity(callerCredentials)
                } catch { throw cannotBecome(owner, error) }
            }
        }
        entered = privilege
    }

    /// Runs `body` with the spool owner's effective ids when a root command (`Privilege.root`)
    /// works on a daemon-owned spool, else as it is.
    func asSpoolOwner<Result>(_ layout: SpoolLayout, _ body: () throws -> Result) throws -> Result {
        guard entered == .root, let owner = try spoolOwner(layout) else { return try body() }
        let credentials: Credentials
        do { credentials = try Credentials.of(owner) } catch { throw cannotBecome(owner, error) }
        return try ProcessCredentials.withEffective(credentials, body)
    }

    private func cannotBecome(_ owner: UnixUser, _ error: any Error) -> CLIError {
        CLIError("cannot take the identity of the spool's owner \(owner.name): \(error); nothing was done")
    }
}
