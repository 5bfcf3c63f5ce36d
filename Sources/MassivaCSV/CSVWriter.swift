/// Writes CSV files for Excel (and for `CSVReader`) into a byte buffer.
///
/// A cell is quoted only when it has to be: when it contains the delimiter, a quote
/// (doubled inside the quotes), CR or LF. Cells are otherwise written exactly as given:
/// no trimming and no protection against spreadsheet formulas (`=`, `+`, `-`, `@`),
/// because operators rely on the exact values.
///
/// Two more cases are quoted so that `CSVReader` reads back what was written: a row
/// that would be a blank line (one empty or whitespace-only cell, or only such cells
/// with the tab delimiter) gets its first cell quoted, and without a BOM a first cell of
/// the file starting with U+FEFF is quoted.
///
/// ```swift
/// var writer = CSVWriter()
/// writer.write(["POD", "Esito"])
/// writer.write(["IT001E12345678", "ok; associato"])
/// // writer.bytes: BOM, then `POD;Esito␍␊IT001E12345678;"ok; associato"␍␊`
/// ```
public struct CSVWriter: Sendable {
    /// The cell separator.
    public let delimiter: CSVDelimiter
    /// Whether records end with CRLF (true, what Excel expects) or LF.
    public let crlf: Bool
    /// The file so far: the BOM if asked for, then each record with its line ending.
    public private(set) var bytes: [UInt8]
    /// Cells are written in UTF-8, or in Windows-1252 (`Windows1252Encoder`: `?` for a
    /// character outside it). The delimiter, quotes and line ends are ASCII in both.
    public let windows1252: Bool

    /// - Parameters:
    ///   - delimiter: the cell separator, `;` by default (Excel with Italian settings).
    ///   - crlf: end records with CRLF (default) rather than LF.
    ///   - bom: start the file with the UTF-8 byte-order mark (default), which makes Excel
    ///     read the file as UTF-8 instead of Windows-1252 (or see `init(encoding:)`).
    ///   - capacity: bytes to reserve up front, to avoid regrowing for large files.
    public init(delimiter: CSVDelimiter = .semicolon, crlf: Bool = true, bom: Bool = true,
                reservingCapacity capacity: Int = 0) {
        self.delimiter = delimiter
        self.crlf = crlf
        self.windows1252 = false
        bytes = []
        bytes.reserveCapacity(max(capacity, 3))
        if bom { bytes.append(contentsOf: TextDecoding.bom) }
    }

    /// A writer in `encoding`: UTF-8 with or without its BOM, or Windows-1252 (no BOM exists).
    public init(delimiter: CSVDelimiter = .semicolon, crlf: Bool = true, encoding: CSVOutputEncoding,
                reservingCapacity capacity: Int = 0) {
        self.delimiter = delimiter
        self.crlf = crlf
        self.windows1252 = encoding == .windows1252
        bytes = []
        bytes.reserveCapacity(max(capacity, 3))
        if encoding.bom { bytes.append(contentsOf: TextDecoding.bom) }
    }

    /// The bytes written so far, leaving the writer empty: for writing a long file in chunks.
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Appends one record (a header is written the same way). An empty array is written
    /// as one empty cell.
    public mutating func write(_ cells: [String]) {
        let rowStart = bytes.count
        // Without a BOM, a leading U+FEFF in the very first cell would be taken for one.
        let guardBOM = rowStart == 0
        appendRow(cells, forceQuoteFirst: guardBOM && (cells.first?.utf8.starts(with: TextDecoding.bom) ?? false))
        var blank = true
        for i in rowStart..<bytes.count where !ASCII.isBlank(bytes[i]) {
            blank = false
            break
        }
        if blank {
            bytes.removeSubrange(rowStart...)
            appendRow(cells, forceQuoteFirst: true)
        }
        if crlf { bytes.append(ASCII.cr) }
        bytes.append(ASCII.lf)
    }

    private mutating func appendRow(_ cells: [String], forceQuoteFirst: Bool) {
        if cells.isEmpty {
            if forceQuoteFirst { bytes.append(contentsOf: [ASCII.quote, ASCII.quote]) }
            return
        }
        for index in cells.indices {
            if index > cells.startIndex { bytes.append(delimiter.rawValue) }
            appendCell(cells[index], forceQuote: forceQuoteFirst && index == cells.startIndex)
        }
    }

    private mutating func appendCell(_ cell: String, forceQuote: Bool) {
        if windows1252 && cell.utf8.contains(where: { $0 >= 0x80 }) {
            Windows1252Encoder.encode(cell).withUnsafeBufferPointer { appendCellBytes($0, forceQuote: forceQuote) }
            return
        }
        var cell = cell
        cell.withUTF8 { appendCellBytes($0, forceQuote: forceQuote) }
    }

    /// One cell's bytes, quoted when needed: the same for UTF-8 and Windows-1252, whose bytes
    /// for the delimiter, the quote, CR and LF are the ASCII ones and appear nowhere else.
    private mutating func appendCellBytes(_ cell: UnsafeBufferPointer<UInt8>, forceQuote: Bool) {
        let delimiter = delimiter.rawValue
        var quote = forceQuote
        if !quote {
            for byte in cell where byte == delimiter || byte == ASCII.quote || byte == ASCII.cr || byte == ASCII.lf {
                quote = true
                break
            }
        }
        guard quote else {
            bytes.append(contentsOf: cell)
            return
        }
        bytes.append(ASCII.quote)
        for byte in cell {
            if byte == ASCII.quote { bytes.append(ASCII.quote) }
            bytes.append(byte)
        }
        bytes.append(ASCII.quote)
    }
}
