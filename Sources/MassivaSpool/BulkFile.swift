import MassivaCSV
import MassivaDomain

/// Reading a bulk file's bytes into data rows, as the brief says: one function for the engine's
/// pass (`RequestProcessor`), `validate`, and the row count taken at intake.
public enum BulkFile {
    /// The bytes of a bulk file, read as the brief says, into data rows.
    public static func parse(_ bytes: [UInt8], maxRows: Int) throws(FileRejection) -> [DataRow] {
        try read(bytes, maxRows: maxRows).finish()
    }

    /// Reads a bulk file record by record into a collector (which also knows the header's
    /// line): memory in proportion to `max_rows`, whatever the file holds (a 1 MB file of short
    /// lines held as records took about 110 bytes of memory per byte).
    public static func read(_ bytes: [UInt8], maxRows: Int) throws(FileRejection) -> RequestFile.RowCollector {
        if looksLikeUTF16(bytes) { throw .utf16 }
        var collector = RequestFile.RowCollector(maxRows: maxRows)
        do {
            try CSVReader.forEachRecord(bytes) { (record: CSVRecord) throws(Never) in
                collector.add(line: record.line, cells: record.cells)
            }
        } catch {
            switch error {
            case .csv(let problem): throw FileRejection.notText(detail: italian(problem))
            }
        }
        return collector
    }

    /// A UTF-16 byte order mark, or a NUL in most odd or most even bytes of the first 64:
    /// "Unicode text" from Excel, which the SI can simply save again as CSV UTF-8.
    static func looksLikeUTF16(_ bytes: [UInt8]) -> Bool {
        if bytes.count >= 2, (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF) { return true }
        let sample = bytes.prefix(64)
        guard sample.count >= 8 else { return false }
        let evens = stride(from: 0, to: sample.count, by: 2).filter { sample[sample.startIndex + $0] == 0 }.count
        let odds = stride(from: 1, to: sample.count, by: 2).filter { sample[sample.startIndex + $0] == 0 }.count
        let half = sample.count / 2
        return evens >= half * 3 / 4 || odds >= half * 3 / 4
    }

    /// How many data rows the file has, counted when it is recorded so that a queued request
    /// shows its progress as `0/N` (Figura 12) rather than `0/0`. A file the pass will reject
    /// (not text, no data rows, over `maxRows`) counts 0: it will never have rows to process.
    public static func dataRowCount(_ bytes: [UInt8], maxRows: Int) -> Int {
        do { return try parse(bytes, maxRows: maxRows).count } catch { return 0 }
    }

    static func italian(_ error: CSVError) -> String {
        switch error {
        case .containsNUL(let line): return "byte NUL alla riga \(line)"
        case .undecodable(let line): return "codifica non riconosciuta alla riga \(line)"
        case .unterminatedQuote(let line): return "virgolette non chiuse dalla riga \(line)"
        }
    }
}
