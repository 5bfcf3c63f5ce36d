/// A configuration file that cannot be used, with where the problem is.
///
/// Printed as `massiva.cf:7: unknown parameter "max_row"`, or `massiva.cf: message`
/// when the problem has no single line (an unreadable file, for instance).
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The file name (or another label) the text came from.
    public let source: String
    /// The 1-based line the problem is on, when there is one.
    public let line: Int?
    /// What is wrong, without the location.
    public let message: String

    /// Creates an error at `source`, optionally on `line`.
    public init(source: String, line: Int?, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    /// `source:line: message`, or `source: message` without a line.
    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}
