/// Reading and writing durations in configuration files.
///
/// A duration is a non-negative whole number followed by an optional unit:
/// `ms` (milliseconds), `s` (seconds), `m` (minutes), `h` (hours) or `d` (days).
/// A bare number means seconds, as in Postfix. Examples: `300s`, `5m`, `1h`, `1d`, `0s`, `250ms`, `30`.
/// Durations are held as `Double` seconds.
public enum DurationSyntax {
    /// The phrase used in error messages describing the accepted spelling.
    public static let expectation = "expected a duration like 300s, 5m, 1h"

    /// Parses `text` (already trimmed) into seconds, or returns nil when it is not a valid duration.
    public static func parse(_ text: String) -> Double? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let count = Int(digits) else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms":
            return Double(count) / 1000
        case "", "s":
            return Double(count)
        case "m":
            return scaled(count, by: 60)
        case "h":
            return scaled(count, by: 3600)
        case "d":
            return scaled(count, by: 86_400)
        default:
            return nil
        }
    }

    /// The canonical spelling of `seconds`: the largest unit that represents it exactly
    /// (`300` → `"5m"`, `0.25` → `"250ms"`, `0` → `"0s"`).
    ///
    /// Values that are not a whole number of milliseconds (never produced by `parse`)
    /// are rounded to the nearest millisecond; negative or non-finite values render as `"0s"`.
    public static func format(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0s" }
        if seconds == seconds.rounded(), seconds < 9.0e15 {
            let whole = Int(seconds)
            for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where whole % size == 0 {
                return "\(whole / size)\(unit)"
            }
            return "\(whole)s"
        }
        let milliseconds = (seconds * 1000).rounded()
        guard milliseconds < 9.0e15 else { return "\(Int(seconds.rounded()))s" }
        return "\(Int(milliseconds))ms"
    }

    private static func scaled(_ count: Int, by factor: Int) -> Double? {
        let (product, overflow) = count.multipliedReportingOverflow(by: factor)
        return overflow ? nil : Double(product)
    }
}
