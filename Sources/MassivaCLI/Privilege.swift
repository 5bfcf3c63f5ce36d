/// What a command needs of the process's identity, declared with it (`Command.privilege`).
/// `MassivaCommandLine.main` makes the one switch before the command's body runs; no command
/// changes ids itself (Postfix's commands each run as one identity, chosen before they work).
public enum Privilege: Sendable, Equatable {
    /// Touches no spool (`config`, `template`, `validate`): runs as whoever ran it.
    case none
    /// Works on the spool. Run as root on a spool the daemon owns, the command becomes the
    /// owner of `private/` for good (groups, group id, user id) before its body runs, as
    /// Postfix's `postsuper` does; files named on its command line are read first, as the
    /// caller (`Command`'s caller step).
    case spoolOwner
    /// Works on the spool and writes files the operator named (`backup FILE`, `--out DIR`):
    /// takes the spool owner's effective ids before its body runs and writes those files with
    /// the caller's (`CommandContext.caller`), so they are the operator's, in the operator's
    /// folders, and everything made in the spool is still the owner's. (The saved user id stays
    /// root's, so that the caller's ids can be taken back for those files: only these three
    /// commands keep it; the other spool commands drop root for good.)
    case spoolOwnerWritingCallerFiles
    /// Changes the system (users, groups, the chroot folders; `tenant add`, `account add`,
    /// `account remove`, `set-permissions`): keeps the identity it was run with and does its
    /// database work with the spool owner's effective ids (`CommandContext.asSpoolOwner`).
    case root
}
