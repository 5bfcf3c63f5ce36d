/// An SQLite failure: the result code, SQLite's message, and the statement it came from.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        "database error \(code): \(message)" + (sql.map { " (in: \($0.prefix(120)))" } ?? "")
    }

    /// The database is locked by another process longer than the busy timeout.
    public var isBusy: Bool { code & 0xff == 5 || code & 0xff == 6 }
}
