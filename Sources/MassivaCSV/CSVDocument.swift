/// One record (logical row) of a CSV file.
public struct CSVRecord: Sendable, Equatable {
    /// The 1-based physical line of the file where the record starts. Blank lines and
    /// line breaks inside quoted cells are counted, so this is the line an editor shows.
    public let line: Int
    /// The cells exactly as in the file, after removing the CSV quoting: not trimmed,
    /// trailing empty cells kept (`a;b;;` gives `["a", "b", "", ""]`).
    public var cells: [String]

    public init(line: Int, cells: [String]) {
        self.line = line
        self.cells = cells
    }
}

/// A whole CSV file, as read by `CSVReader.read(_:delimiter:)`.
public struct CSVDocument: Sendable, Equatable {
    /// The delimiter used: the forced one, or the one detected from the first non-blank line.
    public let delimiter: CSVDelimiter
    /// The encoding the file was decoded from.
    public let encoding: TextEncoding
    /// The non-blank records in file order. The first one may be a header: the reader
    /// does not know or care.
    public let records: [CSVRecord]

    public init(delimiter: CSVDelimiter, encoding: TextEncoding, records: [CSVRecord]) {
        self.delimiter = delimiter
        self.encoding = encoding
        self.records = records
    }
}
