import Foundation

/// The encoding of the CSVs massiva writes (`results_encoding`).
public enum CSVOutputEncoding: Sendable, Equatable {
    /// UTF-8 preceded by a byte order mark: Excel reads it as UTF-8 when opened directly.
    case utf8BOM
    /// Plain UTF-8.
    case utf8
    /// Windows-1252, what Excel on Italian Windows assumes for a CSV with no BOM. A character
    /// it cannot hold becomes `?` (see `Windows1252Encoder`).
    case windows1252

    public var bom: Bool { self == .utf8BOM }
}

/// UTF-8 text to Windows-1252 bytes, for result files an SI opens in Excel on Windows.
///
/// A character outside the code page is **replaced** by `?`, never refused: the text comes from
/// uploads (a cell as the SI typed it, `ı` or `ſ` included), file names and people's names, and a
/// result file that could not be written would hold back the SI's results, retried for ever.
/// The exact text stays where it was: the uploaded file byte for byte (`richiesta.csv`), the
/// database, `show`. The text is first composed (NFC), so a letter typed as base letter and
/// combining accent (`e` + U+0301, as macOS names files) is the one `é` byte. The C1 controls
/// (U+0080–U+009F) become `?` too: Windows-1252 puts printable characters at those bytes.
public enum Windows1252Encoder {
    /// The replacement for a character outside the code page.
    public static let replacement: UInt8 = 0x3F

    /// Bytes 0x80–0x9F by the Unicode scalar they hold (the decoder's table, inverted).
    static let high: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (offset, scalar) in TextDecoding.windows1252High.enumerated() where scalar != TextDecoding.undefined {
            map[UInt32(scalar)] = UInt8(0x80 + offset)
        }
        return map
    }()

    /// The Windows-1252 byte of `scalar`, or nil when the code page has none.
    public static func byte(_ scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if v < 0x80 || (v >= 0xA0 && v <= 0xFF) { return UInt8(v) }
        return high[v]
    }

    /// `text` in Windows-1252, each character outside it as `?`. ASCII text is copied as is.
    public static func encode(_ text: String) -> [UInt8] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            out.append(byte(scalar) ?? replacement)
        }
        return out
    }

    /// Whether every character of `text` (composed) has a Windows-1252 byte.
    public static func canEncode(_ text: String) -> Bool {
        text.precomposedStringWithCanonicalMapping.unicodeScalars.allSatisfy { byte($0) != nil }
    }
}
