/// Reading and writing byte sizes in configuration files.
///
/// A size is a whole number of bytes with an optional suffix `k` (×1024) or `m` (×1048576);
/// upper case `K`/`M` are accepted too. Examples: `1048576`, `512k`, `1m`.
public enum SizeSyntax {
    /// The phrase used in error messages describing the accepted spelling.
    public static let expectation = "expected a size like 1048576, 512k, 1m"

    /// Parses `text` (already trimmed) into bytes, or returns nil when it is not a valid size.
    public static func parse(_ text: String) -> Int? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let count = Int(digits) else { return nil }
        let factor: Int
        switch text.dropFirst(digits.count) {
        case "": factor = 1
        case "k", "K": factor = 1024
        case "m", "M": factor = 1_048_576
        default: return nil
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }

    /// The canonical spelling of `bytes`: `m` or `k` when the size is an exact multiple, else plain bytes
    /// (`1048576` → `"1m"`, `2048` → `"2k"`, `1000` → `"1000"`).
    public static func format(_ bytes: Int) -> String {
        if bytes != 0, bytes % 1_048_576 == 0 { return "\(bytes / 1_048_576)m" }
        if bytes != 0, bytes % 1024 == 0 { return "\(bytes / 1024)k" }
        return "\(bytes)"
    }
}
