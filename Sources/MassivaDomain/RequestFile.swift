/// One data row of a bulk file, as read: its physical line and its normalised cells.
public struct DataRow: Sendable, Equatable {
    /// 1-based line of the file where the row starts.
    public let line: Int
    /// Cells trimmed with their ASCII letters upper-cased (`RequestFile.normalise`), trailing
    /// empty cells dropped.
    public let cells: [String]

    public init(line: Int, cells: [String]) {
        self.line = line
        self.cells = cells
    }
}

/// Why a bulk file is unusable as a whole (the request is rejected). Reasons in Italian:
/// they go into stato.json and richieste.csv, read by the SI.
public enum FileRejection: Error, Sendable, Equatable {
    case noDataRows
    case tooManyRows(count: Int, limit: Int)
    case notText(detail: String)
    case tooLarge(size: Int, limit: Int)
    case notRegularFile(kind: String)
    case tenantDisabled
    case unreadable(detail: String)
    /// The upload's name is not UTF-8: its bytes are not read (the SI renames and uploads again).
    case nameNotUTF8
    /// UTF-16 text (what Excel's "Unicode text" writes): readable, but not the agreed format.
    case utf16
    /// The same name and bytes as `earlier`, one of the tenant's requests recorded at
    /// `submittedAt` (its time as the result files write it) within `duplicate_upload_window`.
    case duplicateUpload(earlier: RequestID, submittedAt: String)
    /// A folder in `incoming/`: its files are not read (kept aside for the operator).
    case folder
    /// A `.cancel` naming a request that is not one of the tenant's: the same words whether it
    /// does not exist or is another SI's, so no SI learns which numbers are in use.
    case cancelTargetNotFound(RequestID)
    /// A `.cancel` whose name is not a request's number.
    case cancelNameInvalid(String)

    public var reason: String {
        switch self {
        case .noDataRows: return "il file è vuoto o non contiene righe di dati"
        case .tooManyRows(let count, let limit): return "il file contiene \(count) righe di dati, il massimo è \(limit)"
        case .notText(let detail): return "il file non è un file di testo CSV (\(detail))"
        case .tooLarge(let size, let limit): return "il file supera la dimensione massima (\(size) byte, massimo \(limit))"
        case .notRegularFile(let kind): return "non è un file regolare (\(kind)): non è stato letto"
        case .tenantDisabled: return "la ditta configuratrice è disabilitata"
        case .unreadable(let detail): return "il file non è leggibile (\(detail))"
        case .nameNotUTF8:
            return "il nome del file contiene caratteri non validi (non UTF-8): rinominare il file usando lettere, cifre, '-' e '_' e caricarlo di nuovo"
        case .utf16:
            return "il file è in codifica UTF-16: salvarlo come CSV UTF-8 (in Excel: \"CSV UTF-8 (delimitato da virgole)\") e caricarlo di nuovo"
        case .duplicateUpload(let earlier, let submittedAt):
            return "file già caricato: identico (stesso nome e stesso contenuto) alla richiesta \(earlier) del \(submittedAt), le sue righe non sono state lavorate una seconda volta"
        case .folder:
            return "è una cartella (directory): le cartelle non sono accettate, i file al suo interno non sono stati letti; caricarli direttamente in incoming/"
        case .cancelTargetNotFound(let id):
            return "annullamento non eseguito: la richiesta \(id) non è stata trovata tra quelle della ditta"
        case .cancelNameInvalid(let name):
            return "annullamento non eseguito: \"\(name)\" non indica una richiesta (il file deve chiamarsi come la richiesta, ad esempio MOME-000000012.cancel)"
        }
    }
}

/// The brief's reading rules above the CSV layer: the optional header, trimming, upper-casing,
/// trailing empty cells, and the row limit.
public enum RequestFile {
    /// Turns CSV records (line, raw cells) into data rows.
    /// The first non-blank record is a header when no cell of it contains a digit (`isHeader`).
    public static func dataRows(records: [(line: Int, cells: [String])], maxRows: Int) throws(FileRejection) -> [DataRow] {
        var collector = RowCollector(maxRows: maxRows)
        for record in records { collector.add(line: record.line, cells: record.cells) }
        return try collector.finish()
    }

    /// Builds the data rows one record at a time, keeping at most `maxRows + 1` of them: past
    /// the limit rows are only counted (for the rejection's message), so a file of many short
    /// lines costs memory in proportion to `max_rows`, not to the file.
    public struct RowCollector {
        public let maxRows: Int
        public private(set) var rows: [DataRow] = []
        /// Data rows seen, kept or not.
        public private(set) var count = 0
        /// The line taken as the header, if any.
        public private(set) var headerLine: Int?
        private var seenNonBlank = false

        public init(maxRows: Int) { self.maxRows = maxRows }

        public mutating func add(line: Int, cells rawCells: [String]) {
            var cells = rawCells.map(normalise)
            while let last = cells.last, last.isEmpty { cells.removeLast() }
            if cells.isEmpty { return }  // a line of only delimiters counts as blank
            // The header is the first non-blank row, not the first record (which may be blank).
            let isFirst = !seenNonBlank
            seenNonBlank = true
            if isFirst && isHeader(cells) {
                headerLine = line
                return
            }
            count += 1
            if count <= maxRows { rows.append(DataRow(line: line, cells: cells)) }
        }

        public func finish() throws(FileRejection) -> [DataRow] {
            if count == 0 { throw .noDataRows }
            if count > maxRows { throw .tooManyRows(count: count, limit: maxRows) }
            return rows
        }
    }

    /// Whether `cells`, the first non-blank row, is a header: none of its cells contains a digit.
    /// Every POD and SID has digits, so a data row is never swallowed as a header, not even
    /// one whose POD has a typo (`XX001E…`): it stays a row and gets its INVALID_POD. The
    /// template's names (`POD;Identificativo MOME/Smart INFO;Tipo Configurazione`) have none.
    /// Any Unicode digit counts (fullwidth `０`, superscript `²`, …): a row typed with them is a
    /// malformed data row, and refusing it row by row tells the SI more than dropping it.
    public static func isHeader(_ cells: [String]) -> Bool {
        !cells.contains { cell in
            cell.unicodeScalars.contains { scalar in
                if scalar.isASCII { return scalar.value >= 0x30 && scalar.value <= 0x39 }
                let type = scalar.properties.numericType
                return type == .decimal || type == .digit
            }
        }
    }

    /// Trimmed (white space, NBSP included) and ASCII-upper-cased, with an ASCII fast path.
    ///
    /// Only `a`–`z` are upper-cased: Unicode upper-casing turns `ß` into `SS`, `ﬁ` into `FI`,
    /// `ı` (dotless i) into `I` and `ſ` (long s) into `S`, so a typo would become a valid POD,
    /// SID or configuration type. Every other character is left as it is and fails the checks.
    public static func normalise(_ cell: String) -> String {
        var utf8 = Array(cell.utf8)
        var ascii = true
        for i in utf8.indices {
            let c = utf8[i]
            if c >= 0x80 { ascii = false; break }
            if c >= 0x61 && c <= 0x7A { utf8[i] = c - 0x20 }
        }
        if !ascii { return cell.trimmingWhitespace().asciiUppercased() }
        // The ASCII white space the non-ASCII path trims too (tab, LF, VT, FF, CR, space): a
        // quoted cell may end in a line break, and both paths must agree on every cell.
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        var start = 0, end = utf8.count
        while start < end && isSpace(utf8[start]) { start += 1 }
        while end > start && isSpace(utf8[end - 1]) { end -= 1 }
        return String(decoding: utf8[start..<end], as: UTF8.self)
    }
}

extension String {
    /// Without leading and trailing white space (spaces, tabs, NBSP, line breaks).
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end && scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start && scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }

    /// With `a`–`z` upper-cased and every other character unchanged: case-insensitive parsing
    /// of values whose letters are ASCII (POD, SID, configuration type, request id) without
    /// Unicode's case mappings, which turn `ß`, `ﬁ`, `ı` or `ſ` into ASCII letters.
    public func asciiUppercased() -> String {
        guard utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) else { return self }
        // Only ASCII bytes change, and a UTF-8 multi-byte sequence never contains one.
        return String(decoding: utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}
