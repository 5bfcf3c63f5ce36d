/// The cell separator of a CSV file.
///
/// The raw value is the ASCII byte of the separator, so the reader and the writer can
/// work on bytes directly.
public enum CSVDelimiter: UInt8, Sendable, CaseIterable {
    /// `;`: what Excel writes with Italian (and most European) regional settings.
    case semicolon = 59
    /// `,`: what scripts and English-locale Excel write.
    case comma = 44
    /// Horizontal tab.
    case tab = 9
}

/// The text encoding a file was read in.
public enum TextEncoding: Sendable, Equatable {
    /// UTF-8 without a byte-order mark (plain ASCII files are reported as this).
    case utf8
    /// UTF-8 starting with the byte-order mark `EF BB BF` (the mark is not part of any cell).
    case utf8WithBOM
    /// Windows-1252 ("ANSI" on Western-European Windows), chosen when the bytes are
    /// not valid UTF-8.
    case windows1252
}

/// ASCII bytes the reader and writer care about.
enum ASCII {
    static let quote: UInt8 = 0x22
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    /// Whether `byte` is whitespace that may make up a blank line:
    /// space, tab, vertical tab, form feed.
    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C
    }

    /// Whether `byte` ends a line (CR or LF).
    @inline(__always)
    static func isLineBreak(_ byte: UInt8) -> Bool {
        byte == 0x0A || byte == 0x0D
    }
}

/// The 1-based physical line of the byte at `offset`: one plus the line breaks before it,
/// where CRLF, LF and a lone CR each count as one break.
func lineNumber(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var line = 1
    var i = 0
    let end = min(offset, bytes.count)
    while i < end {
        let byte = bytes[i]
        if byte == ASCII.lf {
            line += 1
        } else if byte == ASCII.cr && !(i + 1 < bytes.count && bytes[i + 1] == ASCII.lf) {
            line += 1
        }
        i += 1
    }
    return line
}
