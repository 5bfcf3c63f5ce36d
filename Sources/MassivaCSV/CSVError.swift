/// Why a file could not be read as CSV.
///
/// Every case carries the 1-based physical line of the file where the problem is, so a
/// message can say `orders.csv: line 7: unterminated quoted field`.
public enum CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file contains a NUL byte, so it is not a text file (a spreadsheet saved as
    /// `.xlsx`, UTF-16 text, an image...). `line` is where the first NUL is.
    case containsNUL(line: Int)
    /// The bytes are neither valid UTF-8 nor Windows-1252. `line` is where the first
    /// byte that cannot be decoded is.
    case undecodable(line: Int)
    /// A quoted cell is still open at the end of the file. `line` is where the
    /// quoted cell started.
    case unterminatedQuote(line: Int)

    /// The 1-based physical line the error is about.
    public var line: Int {
        switch self {
        case .containsNUL(let line), .undecodable(let line), .unterminatedQuote(let line):
            return line
        }
    }

    /// The problem in English, without the line: `unterminated quoted field`.
    public var reason: String {
        switch self {
        case .containsNUL:
            return "contains a NUL byte (not a text file)"
        case .undecodable:
            return "text is neither UTF-8 nor Windows-1252"
        case .unterminatedQuote:
            return "unterminated quoted field"
        }
    }

    /// `line 3: unterminated quoted field`.
    public var description: String {
        "line \(line): \(reason)"
    }

    /// The error prefixed with the file name it concerns:
    /// `message(file: "orders.csv")` gives `orders.csv: line 3: unterminated quoted field`.
    public func message(file: String) -> String {
        "\(file): \(description)"
    }
}

/// Why `CSVReader.forEachRecord` stopped: the file is not readable CSV, or the caller's body
/// threw.
public enum CSVStreamError<Failure: Error>: Error {
    case csv(CSVError)
    case stopped(Failure)
}
