import MassivaDatabase

/// The new file `massiva backup` copies the spool's database into, opened when this is made:
/// by the operator's ids, before the copy runs with the spool owner's (see `BackupDestination`).
public final class BackupCopy {
    private let destination: BackupDestination

    /// Opens `path`, an empty or new file, as the copy's destination.
    public init(newFile path: String) throws {
        destination = try BackupDestination(newFile: path)
    }

    /// Copies the database at `path` into the new file: SQLite's online backup on a connection
    /// of its own, one snapshot taken while the daemon keeps writing.
    public func copy(from path: String) throws {
        try Maintenance(path: path).backup(to: destination)
    }
}
