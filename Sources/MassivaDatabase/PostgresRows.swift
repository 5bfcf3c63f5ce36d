import CLibpq
import Glibc

/// The rows of one PostgreSQL result (all of it, or one `FETCH` of a cursor), read as text the
/// way `Statement`'s accessors read SQLite's columns: integers and doubles parsed, booleans
/// from `t`/`f` (or a number), bytea from its hex form. Owns the result (`PQclear` at release).
final class PostgresRows {
    let result: OpaquePointer
    let count: Int32
    /// The current row: -1 before the first `next()`.
    private(set) var row: Int32 = -1
    /// Column numbers by name, as decoders ask for them (a few names a statement).
    private var columns: [String: Int32] = [:]

    init(_ result: OpaquePointer) {
        self.result = result
        count = PQntuples(result)
    }

    deinit { PQclear(result) }

    /// Moves to the next row: false past the last.
    func next() -> Bool {
        guard row + 1 < count else { return false }
        row += 1
        return true
    }

    func column(_ name: StaticString) -> Int32? {
        let key = name.description
        if let known = columns[key] { return known }
        // PQfnumber folds unquoted names to lower case; the store's names are lower case.
        let found = PQfnumber(result, key)
        guard found >= 0 else { return nil }
        columns[key] = found
        return found
    }

    func isNull(_ column: Int32) -> Bool { PQgetisnull(result, row, column) != 0 }

    private func value(_ column: Int32) -> UnsafeMutablePointer<CChar>? {
        guard column >= 0, column < PQnfields(result), row >= 0, row < count else { return nil }
        if PQgetisnull(result, row, column) != 0 { return nil }
        return PQgetvalue(result, row, column)
    }

    /// As SQLite: NULL reads as 0; a numeric or floating text is truncated toward zero.
    func int(_ column: Int32) -> Int {
        guard let p = value(column) else { return 0 }
        switch p.pointee {
        case CChar(UInt8(ascii: "t")): return 1
        case CChar(UInt8(ascii: "f")): return 0
        default: break
        }
        var end: UnsafeMutablePointer<CChar>?
        errno = 0
        let n = strtoll(p, &end, 10)
        if let end, end.pointee == 0, errno == 0 { return Int(n) }
        let d = strtod(p, nil)
        return d.isFinite ? Int(clamping: Int64(exactly: d.rounded(.towardZero)) ?? (d < 0 ? Int64.min : Int64.max)) : 0
    }

    func double(_ column: Int32) -> Double {
        guard let p = value(column) else { return 0 }
        switch p.pointee {
        case CChar(UInt8(ascii: "t")): return 1
        case CChar(UInt8(ascii: "f")): return 0
        default: return strtod(p, nil)  // also reads Infinity and NaN
        }
    }

    func bool(_ column: Int32) -> Bool { int(column) != 0 }

    func text(_ column: Int32) -> String {
        guard let p = value(column) else { return "" }
        let n = Int(PQgetlength(result, row, column))
        return p.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
    }

    /// The value typed by the result column's type (`Statement.value`): int2/int4/int8 and oid
    /// `.int`, float4/float8 `.double`, bytea `.blob`, boolean `.int` 0/1, anything else its text.
    func typedValue(_ column: Int32) -> SQLValue {
        guard value(column) != nil else { return .null }
        switch PQftype(result, column) {
        case 20, 21, 23, 26, 16: return .int(int(column))
        case 700, 701: return .double(double(column))
        case 17: return .blob(blob(column))
        default: return .text(text(column))
        }
    }

    /// bytea in its hex output form (`\x0a1b...`, PostgreSQL's default since 9.0); another
    /// type's text as its bytes.
    func blob(_ column: Int32) -> [UInt8] {
        guard let p = value(column) else { return [] }
        let n = Int(PQgetlength(result, row, column))
        return p.withMemoryRebound(to: UInt8.self, capacity: n) { bytes -> [UInt8] in
            let buffer = UnsafeBufferPointer(start: bytes, count: n)
            guard PQftype(result, column) == 17, n >= 2, buffer[0] == 92, buffer[1] == UInt8(ascii: "x") else { return Array(buffer) }
            var out: [UInt8] = []
            out.reserveCapacity((n - 2) / 2)
            var i = 2
            while i + 1 < n {
                out.append(Self.nibble(buffer[i]) << 4 | Self.nibble(buffer[i + 1]))
                i += 2
            }
            return out
        }
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: 0
        }
    }
}
