/// The database named by the configuration could not be opened: a PostgreSQL server out of
/// reach, a wrong host, port, user or database name in the URI, authentication refused.
///
/// Printed as `database <URI without its password>: <libpq's message>`: a command says it as
/// `massiva: database ...` and exits 2, the daemon logs it (`database_unavailable`) and tries
/// again with backoff.
public struct DatabaseUnavailableError: Error, CustomStringConvertible, Sendable {
    public let location: DatabaseLocation
    /// libpq's message, on one line.
    public let message: String

    public init(location: DatabaseLocation, message: String) {
        self.location = location
        self.message = Self.oneLine(message)
    }

    public var description: String { "database \(location): \(message)" }

    /// libpq's messages span lines (`connection to server on socket ... failed: No such file or
    /// directory\n\tIs the server running locally ...`): one log line, one line of stderr.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" })
            .map { $0.trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

extension Database {
    /// Opens the database at `location` as `init(location:)` does, with a PostgreSQL database
    /// that cannot be reached thrown as `DatabaseUnavailableError` (libpq's message alone, the
    /// URI without its password beside it). SQLite's errors are thrown as they are.
    public static func connect(_ location: DatabaseLocation) throws -> Database {
        do {
            return try Database(location: location)
        } catch {
            guard case .postgresql = location else { throw error }
            // `init(location:)` says which database before libpq's message: said once here.
            let prefix = "\(location): "
            let message = error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
            throw DatabaseUnavailableError(location: location, message: message)
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        var s = self
        while let c = s.first, c == " " { s.removeFirst() }
        while let c = s.last, c == " " { s.removeLast() }
        return String(s)
    }
}
