/// Where a spool's state lives: the embedded SQLite file (the default) or a PostgreSQL database
/// named by a libpq connection URI (`database = postgresql://...` in massiva.cf).
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// The embedded database: a SQLite file (`private/massiva.db` of the spool).
    case sqlite(path: String)
    /// A PostgreSQL database: a libpq connection URI (`postgresql://` or `postgres://`),
    /// everything libpq accepts in it. A password is not kept here: libpq reads it from
    /// `PGPASSFILE` / `~/.pgpass` (see `DatabaseLocation.init(setting:embeddedPath:)`).
    case postgresql(uri: String)

    public enum Engine: String, Sendable { case sqlite, postgresql }

    public var engine: Engine {
        switch self {
        case .sqlite: .sqlite
        case .postgresql: .postgresql
        }
    }

    /// The setting `database` of massiva.cf: empty or `sqlite` is the embedded file at
    /// `embeddedPath`; a `postgresql://` (or `postgres://`) URI is that database. A URI with
    /// a password in it is refused: massiva.cf is readable by operators and logged settings
    /// would show it; libpq's own `~/.pgpass` (or `PGPASSFILE`) keeps it instead.
    public init(setting: String, embeddedPath: String) throws(DatabaseLocationError) {
        let value = setting.trimmingSpaces
        if value.isEmpty || value == "sqlite" {
            self = .sqlite(path: embeddedPath)
            return
        }
        guard value.hasPrefix("postgresql://") || value.hasPrefix("postgres://") else {
            throw DatabaseLocationError(setting: setting,
                                        reason: "not a database: use sqlite (the default) or a postgresql:// URI")
        }
        if Self.hasPassword(value) {
            throw DatabaseLocationError(setting: Self.redacted(value),
                                        reason: "a password does not belong in massiva.cf: put it in ~/.pgpass or PGPASSFILE of the user massiva runs as")
        }
        self = .postgresql(uri: value)
    }

    /// For logs and errors: the file's path, or the URI with any password replaced by `***`.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgresql(let uri): Self.redacted(uri)
        }
    }

    /// Whether `uri` carries a password: `user:password@` in its authority, or a `password=`
    /// parameter in its query.
    static func hasPassword(_ uri: String) -> Bool { redacted(uri) != uri }

    /// `uri` with the password of its authority (`user:secret@host`) and of a `password=`
    /// parameter replaced by `***`.
    public static func redacted(_ uri: String) -> String {
        let bytes = Array(uri.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon + 2 < bytes.count,
              bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else { return uri }
        let split = uri.utf8.index(uri.startIndex, offsetBy: colon + 3)
        var out = String(uri[..<split])
        let rest = uri[split...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                out += userInfo[..<colon] + ":***"
            } else {
                out += userInfo
            }
            out += authority[at...]
        } else {
            out += authority
        }
        var tail = String(rest[authorityEnd...])
        if let question = tail.firstIndex(of: "?") {
            let path = tail[..<question]
            let query = tail[tail.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { part in
                // libpq decodes a parameter's name as well as its value: `p%61ssword=` is one too.
                percentDecoded(part.prefix(while: { $0 != "=" })).lowercased() == "password" && part.contains("=")
                    ? "password=***" : String(part)
            }
            tail = path + "?" + query.joined(separator: "&")
        }
        return out + tail
    }
}

/// `text` with its `%XX` escapes decoded (an invalid escape is kept as it is).
private func percentDecoded(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    var rest = text.utf8[...]
    while let byte = rest.popFirst() {
        if byte == UInt8(ascii: "%"), rest.count >= 2,
           let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) {
            bytes.append(value)
            rest = rest.dropFirst(2)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A `database` setting that names no database massiva can use.
public struct DatabaseLocationError: Error, CustomStringConvertible, Sendable {
    public let setting: String
    public let reason: String
    public var description: String { "database \(setting): \(reason)" }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
