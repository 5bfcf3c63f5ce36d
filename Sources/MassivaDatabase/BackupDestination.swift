import CSQLite

/// The new database file an online backup is copied into (`Database.backup(to:)`), opened when
/// this is made.
///
/// Opened first and written later: `massiva backup` opens the operator's file with the
/// operator's rights and then copies the spool's database into it as the spool's owner, through
/// the connection's open file. So the connection uses no journal (`journal_mode = OFF`): a
/// journal would be a new file beside it, made with whatever rights the process has by then;
/// the file is new anyway, and only becomes the backup once complete (the caller renames it).
public final class BackupDestination {
    let handle: OpaquePointer
    public let path: String

    /// Opens `path` (an empty or new file) as the database to copy into.
    public init(newFile path: String) throws(DatabaseError) {
        var raw: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &raw, flags, nil)
        guard rc == SQLITE_OK, let destination = raw else {
            let message = raw.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let raw { sqlite3_close_v2(raw) }
            throw DatabaseError(code: rc, message: "\(path): \(message)", sql: nil)
        }
        handle = destination
        self.path = path
        sqlite3_busy_timeout(destination, 10_000)
        let journal = "PRAGMA journal_mode = OFF"
        guard sqlite3_exec(destination, journal, nil, nil, nil) == SQLITE_OK else {
            // Not closed here: every property is set, so `deinit` closes it (closed here too, the
            // freed connection was closed a second time).
            throw DatabaseError(code: sqlite3_errcode(destination), message: "\(path): \(String(cString: sqlite3_errmsg(destination)))",
                                sql: journal)
        }
    }

    deinit { sqlite3_close_v2(handle) }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }
}
