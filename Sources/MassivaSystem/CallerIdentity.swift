/// The identity of whoever ran a command, for the files it named on its command line.
///
/// A command run as root on a spool the daemon owns acts on the spool with the owner's
/// effective ids (`ProcessCredentials.assume`), and reads and writes the operator's own files
/// (`backup FILE`, `scp --out DIR`) with the operator's, as Postfix's commands read their
/// arguments with the caller's rights and act on the queue with the owner's: a file in root's
/// 0700 folder is root's to read or write, and a backup or an SCP file made there is root's.
public struct CallerIdentity: Sendable {
    /// The caller's ids while the process acts as someone else; nil when the process is the
    /// caller (nothing to switch).
    public let credentials: Credentials?

    public init(_ credentials: Credentials?) { self.credentials = credentials }

    /// The process is the caller: `run` just runs.
    public static let current = CallerIdentity(nil)

    /// Runs `body` with the caller's ids and returns to the ones before (a failure either way
    /// ends the process, see `ProcessCredentials.withEffective`).
    public func run<Result>(_ body: () throws -> Result) rethrows -> Result {
        guard let credentials else { return try body() }
        return try ProcessCredentials.withEffective(credentials, body)
    }
}
