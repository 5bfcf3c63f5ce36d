import MassivaCSV
import MassivaSystem
import Synchronization

/// What a command printed, collected instead of written (tests; see `Output.capture`).
public final class OutputCapture: Sendable {
    private let streams = Mutex((out: [UInt8](), err: [UInt8]()))

    public init() {}

    public var standardOutput: [UInt8] { streams.withLock { $0.out } }
    public var standardError: [UInt8] { streams.withLock { $0.err } }
    public var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
    public var errorText: String { String(decoding: standardError, as: UTF8.self) }

    func append(_ bytes: [UInt8], error: Bool) {
        streams.withLock { if error { $0.err.append(contentsOf: bytes) } else { $0.out.append(contentsOf: bytes) } }
    }
}

/// Buffered standard output and unbuffered standard error for commands.
public enum Output {
    nonisolated(unsafe) static var buffer: [UInt8] = []

    /// Test hook: while set (`Output.$capture.withValue(c) { ... }`), everything printed in this
    /// task goes to `c` instead of file descriptors 1 and 2. Task-local, so tests running in
    /// parallel each see their own output.
    @TaskLocal public static var capture: OutputCapture?

    public static func print(_ line: String = "") {
        if let capture { capture.append(Array(line.utf8) + [0x0A], error: false); return }
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count > 1 << 16 { flush() }
    }

    /// Writes bytes as they are (a CSV with its BOM and CRLF).
    public static func write(_ bytes: [UInt8]) {
        if let capture { capture.append(bytes, error: false); return }
        buffer.append(contentsOf: bytes)
        flush()
    }

    public static func flush() {
        // A closed or broken standard output (EPIPE) loses the rest, as before.
        try? FileDescriptor.standardOutput.writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    public static func error(_ line: String) {
        if let capture { capture.append(Array(line.utf8) + [0x0A], error: true); return }
        flush()
        StandardError.write(line)
    }

    /// `rows` as CSV (the result files' dialect) or as a terminal table.
    public static func rows(_ header: [String], _ rows: [[String]], csv: Bool, encoding: CSVOutputEncoding = .utf8BOM) {
        guard csv else { return table(header, rows) }
        var writer = CSVWriter(delimiter: .semicolon, crlf: true, encoding: encoding)
        writer.write(header)
        for row in rows { writer.write(row) }
        write(writer.bytes)
    }

    /// Columns padded to their widest cell, for terminal tables.
    public static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map { $0.count }
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (i, cell) in cells.enumerated() {
                if i == cells.count - 1 { out += cell } else { out += cell + String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            return out
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
