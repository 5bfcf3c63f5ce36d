/// The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector
/// reads it: per family one `# HELP` and one `# TYPE` line, then its samples, all of a family
/// together (the collector refuses a family split in two).
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public private(set) var text = ""

    public init() {}

    /// Starts a family. `help` is one line of plain English.
    public mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample of the family just started; labels in the order given.
    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.key)=\"\(Self.escapeLabel($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// A sample without labels.
    public mutating func sample(_ name: String, _ value: Double) { sample(name, [:], value) }
    public mutating func sample(_ name: String, _ value: Int) { sample(name, [:], Double(value)) }

    /// A histogram's `_bucket` (cumulative, `le` ascending, `+Inf` last), `_sum` and `_count`,
    /// from the count in each bucket (`counts` has one more element than `bounds`: `+Inf`).
    public mutating func histogram(_ name: String, bounds: [Double], counts: [Int], sum: Double) {
        var cumulative = 0
        for (index, count) in counts.enumerated() {
            cumulative += count
            let le = index < bounds.count ? Self.format(bounds[index]) : "+Inf"
            text += "\(name)_bucket{le=\"\(le)\"} \(cumulative)\n"
        }
        text += "\(name)_sum \(Self.format(sum))\n\(name)_count \(cumulative)\n"
    }

    /// Integers without a fraction, others as Swift's shortest round-trip spelling.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// In a label value: backslash, double quote and line feed are escaped.
    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// In HELP text: backslash and line feed.
    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences("\\", "\\\\").replacingOccurrences("\n", "\\n")
    }
}

extension String {
    /// Without Foundation: every occurrence of `target` replaced.
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
