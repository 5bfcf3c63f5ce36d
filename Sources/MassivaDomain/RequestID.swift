/// `MOME-000000031`: one global sequence, 9 digits.
public struct RequestID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let number: Int

    public init(_ number: Int) { self.number = number }

    /// Accepts `MOME-000000031` (any ASCII case) or the bare number.
    public init?(parsing text: String) {
        // ASCII-only folding and bytes, as for bulk values: no other letter may become part of
        // `MOME-`, and a combining mark after the `-` is not dropped with it.
        var t = Array(text.asciiUppercased().utf8)[...]
        if t.starts(with: "MOME-".utf8) { t = t.dropFirst(5) }
        guard !t.isEmpty, t.count <= 9, t.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let n = Int(String(decoding: t, as: UTF8.self)), n > 0 else { return nil }
        number = n
    }

    public var description: String {
        let digits = String(number)
        return "MOME-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
    }

    public static func < (a: RequestID, b: RequestID) -> Bool { a.number < b.number }
}
