/// `MOME-000000031`: one global sequence, 9 digits.
public struct RequestID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let number: Int

    public init(_ number: Int) { self.number = number }

    /// Accepts `MOME-000000031` (any case) or the bare number.
    public init?(parsing text: String) {
        var t = Substring(text.uppercased())
        if t.hasPrefix("MOME-") { t = t.dropFirst(5) }
        guard !t.isEmpty, t.count <= 9, t.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(t), n > 0 else { return nil }
        number = n
    }

    public var description: String {
        let digits = String(number)
        return "MOME-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
    }

    public static func < (a: RequestID, b: RequestID) -> Bool { a.number < b.number }
}
