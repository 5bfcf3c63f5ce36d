/// Choosing a file's encoding and turning cell bytes into `String`s.
///
/// The choice is made once per file: UTF-8 (with or without BOM) when every byte is
/// valid UTF-8, otherwise Windows-1252. Because both encodings keep ASCII bytes as they
/// are (UTF-8 multi-byte sequences use only bytes >= 0x80), the CSV structure
/// (delimiters, quotes, line breaks) can be parsed on the raw bytes and only each cell's
/// bytes need decoding.
enum TextDecoding {
    /// The UTF-8 byte-order mark.
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Whether `bytes` start with the UTF-8 byte-order mark.
    static func hasBOM(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
    }

    /// The encoding of a whole file (NUL bytes must already have been rejected).
    ///
    /// A file that starts with a BOM must be valid UTF-8 after it: the BOM is a
    /// statement that the file is UTF-8, so no Windows-1252 fallback is tried.
    /// - Throws: `CSVError.undecodable` with the line of the first byte that cannot be
    ///   decoded.
    static func detectEncoding(_ bytes: UnsafeBufferPointer<UInt8>) throws(CSVError) -> TextEncoding {
        let bomPresent = hasBOM(bytes)
        guard let invalid = firstInvalidUTF8(bytes, from: bomPresent ? 3 : 0) else {
            return bomPresent ? .utf8WithBOM : .utf8
        }
        if bomPresent {
            throw .undecodable(line: lineNumber(of: invalid, in: bytes))
        }
        if let undefined = firstUndefinedWindows1252(bytes) {
            throw .undecodable(line: lineNumber(of: undefined, in: bytes))
        }
        return .windows1252
    }

    /// The offset of the first byte that starts an ill-formed UTF-8 sequence, or nil when
    /// `bytes[start...]` is well-formed (strict: no overlong forms, no surrogates, nothing
    /// above U+10FFFF, no sequence cut short by the end).
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        let n = bytes.count
        var i = start
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            // Allowed range of the second byte and the total length, per Unicode table 3-7.
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            let length: Int
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            let second = bytes[i + 1]
            guard second >= low && second <= high else { return i }
            var k = 2
            while k < length {
                let next = bytes[i + k]
                guard next >= 0x80 && next <= 0xBF else { return i }
                k += 1
            }
            i += length
        }
        return nil
    }

    /// Sentinel in `windows1252` for the five bytes Windows-1252 leaves undefined.
    static let undefined: UInt16 = 0xFFFF

    /// Unicode scalar of each Windows-1252 byte from 0x80 to 0x9F (`undefined` where none);
    /// every other byte is the Latin-1 code point of the same value.
    static let windows1252High: [UInt16] = [
        0x20AC, undefined, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, // 80-87
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, undefined, 0x017D, undefined, // 88-8F
        undefined, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, // 90-97
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, undefined, 0x017E, 0x0178, // 98-9F
    ]

    /// The Unicode scalar value of a Windows-1252 byte, or `undefined` for
    /// 0x81, 0x8D, 0x8F, 0x90 and 0x9D.
    @inline(__always)
    static func windows1252Scalar(_ byte: UInt8) -> UInt16 {
        if byte >= 0x80 && byte <= 0x9F {
            return windows1252High[Int(byte - 0x80)]
        }
        return UInt16(byte)
    }

    /// The offset of the first byte Windows-1252 leaves undefined, or nil.
    static func firstUndefinedWindows1252(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x81 || byte == 0x8D || byte == 0x8F || byte == 0x90 || byte == 0x9D {
                return i
            }
            i += 1
        }
        return nil
    }

    /// Decodes bytes already known to be valid in `encoding` (a BOM, if any, must have
    /// been removed).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, as encoding: TextEncoding) -> String {
        switch encoding {
        case .utf8, .utf8WithBOM:
            return String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            return decodeWindows1252(bytes)
        }
    }

    /// Windows-1252 to `String`, transcoding straight into the string's UTF-8 storage.
    /// Undefined bytes (which `detectEncoding` rejects beforehand) become U+FFFD.
    static func decodeWindows1252(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            return String(decoding: bytes, as: UTF8.self)
        }
        // Each byte becomes at most 3 UTF-8 bytes (the highest scalar is U+FFFD/U+2122).
        return String(unsafeUninitializedCapacity: bytes.count * 3) { out in
            var o = 0
            for byte in bytes {
                var scalar = windows1252Scalar(byte)
                if scalar == undefined { scalar = 0xFFFD }
                if scalar < 0x80 {
                    out[o] = UInt8(scalar)
                    o += 1
                } else if scalar < 0x800 {
                    out[o] = UInt8(0xC0 | (scalar >> 6))
                    out[o + 1] = UInt8(0x80 | (scalar & 0x3F))
                    o += 2
                } else {
                    out[o] = UInt8(0xE0 | (scalar >> 12))
                    out[o + 1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                    out[o + 2] = UInt8(0x80 | (scalar & 0x3F))
                    o += 3
                }
            }
            return o
        }
    }
}
