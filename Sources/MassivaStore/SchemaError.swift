/// The database cannot be used by this binary as it is.
public enum SchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Written by a newer massiva: this one does not know its tables, and must not change them.
    case newerThanBinary(path: String, found: Int, supported: Int)

    /// The exit status of a process that stops on this error: 65, sysexits' EX_DATAERR, which
    /// systemd shows as "status=65/DATAERR" (the unit's RestartPreventExitStatus= names it, so
    /// systemd does not start the daemon again and again on a database it cannot use).
    public static let exitStatus: Int32 = 65

    public var description: String {
        switch self {
        case .newerThanBinary(let path, let found, let supported):
            return "\(path): the database has schema version \(found), newer than this massiva knows (\(supported)): "
                + "it was written by a newer release; run that release (or restore a backup made for this one)"
        }
    }
}

/// A stored value that does not decode: a corrupted record, or one written by a newer release.
/// Never replaced by a default: the request it belongs to finishes with an error.
public struct RecordError: Error, Equatable, Sendable, CustomStringConvertible {
    public var table: String
    /// Which record: the request id, the POD, the audit entry's id.
    public var key: String
    public var column: String
    public var value: String

    public init(table: String, key: String, column: String, value: String) {
        self.table = table
        self.key = key
        self.column = column
        self.value = value
    }

    public var description: String { "\(table) \(key): \(column) \"\(value)\" is not a known value" }
}
