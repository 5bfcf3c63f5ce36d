import MassivaCSV
import MassivaSystem

/// A CSV result file written to a temporary file in chunks as its rows come, so a list of any
/// length (a tenant's requests, its associations) costs a bounded amount of memory. The caller
/// stages the finished file in an `AtomicFileBatch`, like any other result file.
struct StreamedCSVFile {
    let path: String
    fileprivate let descriptor: FileDescriptor
    private var writer: CSVWriter
    /// Set once `finish` has closed the descriptor (even when the close failed: the number is
    /// released either way), so `abandon` does not close it again.
    private var closed = false

    init(temporaryDirectory: String, header: [String]?, encoding: CSVOutputEncoding) throws {
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
        if let header { writer.write(header) }
    }

    mutating func write(_ cells: [String]) throws {
        writer.write(cells)
        if writer.bytes.count >= 1 << 16 { try descriptor.writeAll(writer.takeBytes()) }
    }

    /// Writes what is left and closes the file; returns its path.
    mutating func finish() throws -> String {
        try descriptor.writeAll(writer.takeBytes())
        closed = true
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

    /// A copy of the CSV file at `existing` (written by this writer, with a BOM or without as
    /// `encoding` says: else nil is returned and nothing is left) followed by the rows `rows`
    /// hands on, in a new temporary file whose path is returned (removed on failure).
    static func appending(to existing: String, in temporaryDirectory: String, encoding: CSVOutputEncoding,
                          rows: ((_ cells: [String]) throws -> Void) throws -> Void) throws -> String? {
        let source = try FileDescriptor.open(existing, .readOnly, options: [.noFollow, .closeOnExec])
        defer { try? source.close() }
        let bom = encoding.bom
        // The rows in the file's encoding, without a second BOM.
        var file = try StreamedCSVFile(temporaryDirectory: temporaryDirectory, header: nil, encoding: bom ? .utf8 : encoding)
        do {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            var first = true
            while true {
                let count = try source.read(into: buffer)
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if first {
                    first = false
                    let hasBOM = count >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF
                    if hasBOM != bom { file.abandon(); return nil }
                }
                try file.descriptor.writeAll(chunk)
            }
            if first { file.abandon(); return nil }  // empty: not ours
            try rows { try file.write($0) }
            return try file.finish()
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Closes and removes the file after a failure.
    func abandon() {
        if !closed { try? descriptor.close() }
        try? FileSystem.unlink(path)
    }
}
