import MassivaCSV
import MassivaDomain

/// Reading a bulk file's bytes into data rows, as the brief says: one function for the engine's
/// pass (`RequestProcessor`), `validate`, and the row count taken at intake.
public enum BulkFile {
    /// The bytes of a bulk file, read as the brief says, into data rows.
    public static func parse(_ bytes: [UInt8], maxRows: Int) throws(FileRejection) -> [DataRow] {
        let document: CSVDocument
        do {
            document = try CSVReader.read(bytes)
        } catch {
            throw FileRejection.notText(detail: italian(error))
        }
        return try RequestFile.dataRows(records: document.records.map { ($0.line, $0.cells) }, maxRows: maxRows)
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
