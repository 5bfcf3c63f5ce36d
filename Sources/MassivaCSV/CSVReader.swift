import Glibc

/// Reads CSV files as uploaded by people and scripts: Excel's `;` files in Windows-1252,
/// UTF-8 exports with a BOM, comma- or tab-separated files with CRLF, LF or CR line ends.
///
/// The reader only undoes the CSV format. It does not trim cells, change case, detect or
/// skip a header, or drop trailing empty cells: that is the caller's business.
///
/// Rules:
/// - **Encoding**: UTF-8 (an initial BOM is dropped) when the bytes are valid UTF-8,
///   otherwise Windows-1252. A file with a BOM must be valid UTF-8. A NUL byte anywhere
///   means "not a text file". See `CSVError`.
/// - **Delimiter**: the forced one, or whichever of `;` `,` tab occurs most often outside
///   quotes in the first non-blank record; ties go to `;`, then `,`. A file without
///   any of them is read with `;` (one cell per record).
/// - **Quotes** (RFC 4180): a cell starting with `"` runs to the next lone `"`; inside it
///   `""` is one quote and delimiters and line breaks are kept as they are. Text between
///   a closing quote and the next delimiter is kept (`"ab"c` reads `abc`); a quote in the
///   middle of an unquoted cell is an ordinary character.
/// - **Lines**: CRLF, LF and lone CR all end a record. Lines holding only spaces, tabs,
///   vertical tabs or form feeds are skipped, but still counted in `CSVRecord.line`.
///   A line break at the end of the file does not make an empty last record.
public enum CSVReader {
    /// Reads a whole CSV file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - delimiter: the delimiter to use; nil to detect it from the first non-blank record.
    /// - Returns: the records; no records for an empty or all-blank file.
    /// - Throws: `CSVError` for NUL bytes, undecodable bytes or an unterminated quoted cell.
    public static func read(_ bytes: [UInt8], delimiter: CSVDelimiter? = nil) throws(CSVError) -> CSVDocument {
        let result: Result<CSVDocument, CSVError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(CSVError) {
                return .success(try read(buffer, delimiter: delimiter))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Reads a whole CSV file from memory the caller owns (for example a mapped file).
    /// Same rules as `read(_:delimiter:)`.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, delimiter: CSVDelimiter? = nil) throws(CSVError) -> CSVDocument {
        if let base = bytes.baseAddress, bytes.count > 0,
           let nul = memchr(base, 0, bytes.count) {
            let offset = UnsafeRawPointer(nul) - UnsafeRawPointer(base)
            throw .containsNUL(line: lineNumber(of: offset, in: bytes))
        }
        let encoding = try TextDecoding.detectEncoding(bytes)
        let body = encoding == .utf8WithBOM
            ? UnsafeBufferPointer(rebasing: bytes[3...])
            : bytes
        let chosen = delimiter ?? detectDelimiter(body)
        var parser = RecordParser(bytes: body, delimiter: chosen.rawValue, encoding: encoding)
        let records = try parser.parseAll()
        return CSVDocument(delimiter: chosen, encoding: encoding, records: records)
    }

    /// Reads a CSV file one record at a time, handing each to `body` and keeping none: memory
    /// in proportion to the longest record, not to the file (a 1 MB file of short lines held
    /// as records took about 110 bytes of memory per byte). Same rules as `read(_:delimiter:)`;
    /// returns the delimiter and encoding used. An error thrown by `body` stops the reading
    /// and is rethrown.
    @discardableResult
    public static func forEachRecord<Failure: Error>(
        _ bytes: [UInt8], delimiter: CSVDelimiter? = nil, _ body: (CSVRecord) throws(Failure) -> Void
    ) throws(CSVStreamError<Failure>) -> (delimiter: CSVDelimiter, encoding: TextEncoding) {
        let result: Result<(CSVDelimiter, TextEncoding), CSVStreamError<Failure>> = bytes.withUnsafeBufferPointer { buffer in
            do throws(CSVStreamError<Failure>) {
                return .success(try forEachRecord(buffer, delimiter: delimiter, body))
            } catch {
                return .failure(error)
            }
        }
        let (chosen, encoding) = try result.get()
        return (chosen, encoding)
    }

    static func forEachRecord<Failure: Error>(
        _ bytes: UnsafeBufferPointer<UInt8>, delimiter: CSVDelimiter?, _ body: (CSVRecord) throws(Failure) -> Void
    ) throws(CSVStreamError<Failure>) -> (CSVDelimiter, TextEncoding) {
        if let base = bytes.baseAddress, bytes.count > 0,
           let nul = memchr(base, 0, bytes.count) {
            let offset = UnsafeRawPointer(nul) - UnsafeRawPointer(base)
            throw .csv(.containsNUL(line: lineNumber(of: offset, in: bytes)))
        }
        let encoding: TextEncoding
        do { encoding = try TextDecoding.detectEncoding(bytes) } catch { throw .csv(error) }
        let body_ = encoding == .utf8WithBOM ? UnsafeBufferPointer(rebasing: bytes[3...]) : bytes
        let chosen = delimiter ?? detectDelimiter(body_)
        var parser = RecordParser(bytes: body_, delimiter: chosen.rawValue, encoding: encoding)
        while true {
            let record: CSVRecord?
            do { record = try parser.parseNext() } catch { throw .csv(error) }
            guard let record else { break }
            do { try body(record) } catch { throw .stopped(error) }
        }
        return (chosen, encoding)
    }

    /// The delimiter occurring most often outside quotes in the first non-blank record
    /// (`;` on a tie or when there is none).
    static func detectDelimiter(_ bytes: UnsafeBufferPointer<UInt8>) -> CSVDelimiter {
        guard let start = firstNonBlankLine(bytes) else { return .semicolon }
        var best = CSVDelimiter.semicolon
        var bestCount = countDelimiters(bytes, from: start, delimiter: best.rawValue)
        for candidate in [CSVDelimiter.comma, .tab] {
            let count = countDelimiters(bytes, from: start, delimiter: candidate.rawValue)
            if count > bestCount {
                best = candidate
                bestCount = count
            }
        }
        return best
    }

    /// The offset where the first line that is not blank starts, or nil if there is none.
    static func firstNonBlankLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = bytes.count
        var lineStart = 0
        while lineStart < n {
            var i = lineStart
            while i < n && ASCII.isBlank(bytes[i]) { i += 1 }
            if i == n { return nil }
            guard ASCII.isLineBreak(bytes[i]) else { return lineStart }
            if bytes[i] == ASCII.cr && i + 1 < n && bytes[i + 1] == ASCII.lf { i += 1 }
            lineStart = i + 1
        }
        return nil
    }

    /// How many times `delimiter` separates cells in the record starting at `start`,
    /// reading it with the same quote rules as the parser would with that delimiter.
    static func countDelimiters(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, delimiter: UInt8) -> Int {
        let n = bytes.count
        var count = 0
        var i = start
        var atCellStart = true
        while i < n {
            let byte = bytes[i]
            if atCellStart && byte == ASCII.quote {
                // Skip the quoted part; `""` inside it is skipped as two quotes.
                i += 1
                while i < n {
                    if bytes[i] == ASCII.quote {
                        if i + 1 < n && bytes[i + 1] == ASCII.quote {
                            i += 2
                            continue
                        }
                        break
                    }
                    i += 1
                }
                i += 1
                atCellStart = false
                continue
            }
            if byte == delimiter {
                count += 1
                atCellStart = true
            } else if ASCII.isLineBreak(byte) {
                break
            } else {
                atCellStart = false
            }
            i += 1
        }
        return count
    }
}

/// The record state machine, over the bytes after any BOM.
struct RecordParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let delimiter: UInt8
    let encoding: TextEncoding
    /// Offset of the next byte to read.
    var position = 0
    /// Physical line of `position`.
    var line = 1
    /// Unquoted bytes of the current quoted cell.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8, encoding: TextEncoding) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.encoding = encoding
    }

    mutating func parseAll() throws(CSVError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        while let record = try parseNext() { records.append(record) }
        return records
    }

    /// The next non-blank record, or nil at the end.
    mutating func parseNext() throws(CSVError) -> CSVRecord? {
        let n = bytes.count
        while position < n {
            if skipBlankLine() { continue }
            let recordLine = line
            var cells: [String] = []
            while true {
                cells.append(try parseCell())
                if position < n && bytes[position] == delimiter {
                    position += 1
                    continue
                }
                break
            }
            consumeLineBreak()
            return CSVRecord(line: recordLine, cells: cells)
        }
        return nil
    }

    /// If the line at `position` is blank, moves past it (and its line break) and
    /// returns true; otherwise leaves `position` alone.
    mutating func skipBlankLine() -> Bool {
        let n = bytes.count
        var i = position
        while i < n && ASCII.isBlank(bytes[i]) { i += 1 }
        if i == n {
            position = n
            return true
        }
        guard ASCII.isLineBreak(bytes[i]) else { return false }
        position = i
        consumeLineBreak()
        return true
    }

    /// Moves past CRLF, LF or CR at `position`, if any, counting the line.
    mutating func consumeLineBreak() {
        let n = bytes.count
        guard position < n else { return }
        if bytes[position] == ASCII.cr {
            position += 1
            if position < n && bytes[position] == ASCII.lf { position += 1 }
        } else {
            position += 1 // LF: the only other byte a cell can stop at besides the delimiter
        }
        line += 1
    }

    /// Reads one cell, leaving `position` at the delimiter, line break or end after it.
    mutating func parseCell() throws(CSVError) -> String {
        let n = bytes.count
        if position < n && bytes[position] == ASCII.quote {
            return try parseQuotedCell()
        }
        let start = position
        while position < n {
            let byte = bytes[position]
            if byte == delimiter || byte == ASCII.cr || byte == ASCII.lf { break }
            position += 1
        }
        return TextDecoding.decode(UnsafeBufferPointer(rebasing: bytes[start..<position]), as: encoding)
    }

    /// Reads a cell starting with a quote at `position`.
    mutating func parseQuotedCell() throws(CSVError) -> String {
        let n = bytes.count
        let startLine = line
        position += 1
        scratch.removeAll(keepingCapacity: true)
        var closed = false
        while position < n {
            let byte = bytes[position]
            if byte == ASCII.quote {
                if position + 1 < n && bytes[position + 1] == ASCII.quote {
                    scratch.append(ASCII.quote)
                    position += 2
                    continue
                }
                position += 1
                closed = true
                break
            }
            if byte == ASCII.lf {
                line += 1
            } else if byte == ASCII.cr && !(position + 1 < n && bytes[position + 1] == ASCII.lf) {
                line += 1
            }
            scratch.append(byte)
            position += 1
        }
        guard closed else { throw .unterminatedQuote(line: startLine) }
        // Lenient: keep anything between the closing quote and the end of the cell.
        while position < n {
            let byte = bytes[position]
            if byte == delimiter || byte == ASCII.cr || byte == ASCII.lf { break }
            scratch.append(byte)
            position += 1
        }
        let encoding = self.encoding
        return scratch.withUnsafeBufferPointer { TextDecoding.decode($0, as: encoding) }
    }
}
