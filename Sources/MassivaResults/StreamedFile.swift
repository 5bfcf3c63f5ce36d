import MassivaCSV
import MassivaSystem

/// A CSV result file written to a temporary file in chunks as its rows come, so a list of any
/// length (a tenant's requests, its associations) costs a bounded amount of memory. The caller
/// stages the finished file in an `AtomicFileBatch`, like any other result file.
struct StreamedCSVFile {
    let path: String
    private let descriptor: FileDescriptor
    private var writer: CSVWriter

    init(temporaryDirectory: String, header: [String], encoding: CSVOutputEncoding) throws {
        path = temporaryDirectory + "/" + TemporaryName.make()
        let descriptor = try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: 0o644)
        do {
            try descriptor.setPermissions(0o644)  // exact, whatever the umask (see AtomicFile)
        } catch {
            try? descriptor.close()
            try? FileSystem.unlink(path)
            throw error
        }
        self.descriptor = descriptor
        writer = CSVWriter(delimiter: .semicolon, crlf: true, encoding: encoding, reservingCapacity: 1 << 16)
        writer.write(header)
    }

    mutating func write(_ cells: [String]) throws {
        writer.write(cells)
        if writer.bytes.count >= 1 << 16 { try descriptor.writeAll(writer.takeBytes()) }
    }

    /// Writes what is left and closes the file; returns its path.
    mutating func finish() throws -> String {
        try descriptor.writeAll(writer.takeBytes())
        try descriptor.close()
        return path
    }

    /// A whole CSV file: `header`, then the rows `rows` hands to its argument, written to a new
    /// temporary file in `temporaryDirectory`, whose path is returned (removed on failure).
    static func write(in temporaryDirectory: String, header: [String], encoding: CSVOutputEncoding,
                      rows: ((_ cells: [String]) throws -> Void) throws -> Void) throws -> String {
        var file = try StreamedCSVFile(temporaryDirectory: temporaryDirectory, header: header, encoding: encoding)
        do {
            try rows { try file.write($0) }
            return try file.finish()
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Closes and removes the file after a failure.
    func abandon() {
        try? descriptor.close()
        try? FileSystem.unlink(path)
    }
}
