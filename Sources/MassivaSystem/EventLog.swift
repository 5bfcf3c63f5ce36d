import Synchronization

/// One line per event on stderr (journald adds the time), as `text` (`key=value`) or `json`.
/// Safe from any thread: lines are never interleaved, and the format may change (SIGHUP) while
/// other threads log.
public final class EventLog: Sendable {
    public enum Format: String, Sendable { case text, json }

    /// The format, and the lock that keeps each line whole in the sink.
    private let state: Mutex<Format>
    private let sink: @Sendable (String) -> Void

    public init(format: Format = .text, sink: (@Sendable (String) -> Void)? = nil) {
        self.state = Mutex(format)
        self.sink = sink ?? { line in StandardError.write(line) }
    }

    public var format: Format {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Logs `event` with its fields in order.
    public func log(_ event: String, _ fields: KeyValuePairs<String, String> = [:]) {
        let text = Self.line(event, fields, format: format)  // formatted outside the lock
        state.withLock { _ in sink(text) }
    }

    static func line(_ event: String, _ fields: KeyValuePairs<String, String>, format: Format) -> String {
        var line: String
        switch format {
        case .text:
            line = event
            for (key, value) in fields { line += " \(key)=\(Self.textValue(value))" }
        case .json:
            line = "{\"event\":\(Self.jsonString(event))"
            for (key, value) in fields { line += ",\(Self.jsonString(key)):\(Self.jsonString(value))" }
            line += "}"
        }
        return line
    }

    static func textValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "\\" && $0.value != 0x7F }
        return plain ? value : jsonString(value)
    }

    /// A JSON string literal for `value`.
    public static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
