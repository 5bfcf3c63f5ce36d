import Glibc

/// One line per event on stderr (journald adds the time), as `text` (`key=value`) or `json`.
public final class EventLog: @unchecked Sendable {
    public enum Format: String, Sendable { case text, json }

    public var format: Format
    private let sink: @Sendable (String) -> Void
    private let lock = Mutex()

    public init(format: Format = .text, sink: (@Sendable (String) -> Void)? = nil) {
        self.format = format
        self.sink = sink ?? { line in
            var bytes = Array(line.utf8)
            bytes.append(0x0A)
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Logs `event` with its fields in order.
    public func log(_ event: String, _ fields: KeyValuePairs<String, String> = [:]) {
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
        lock.withLock { sink(line) }
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

/// A pthread mutex, for the few places where threads share a value.
public final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
