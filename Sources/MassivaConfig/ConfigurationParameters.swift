/// The table of parameters: name, how a value is read into a `Configuration`, how it is written back.
struct ConfigurationParameter: Sendable {
    /// The name in the file, such as `max_rows`.
    let name: String
    /// Stores the (trimmed) value into the configuration, or returns what is wrong with it.
    let apply: @Sendable (inout Configuration, String) -> String?
    /// The canonical spelling of the configuration's value.
    let render: @Sendable (Configuration) -> String

    /// Every parameter, in the order `lines(onlyNonDefault:)` writes them.
    static let all: [ConfigurationParameter] = [
        text("spool_directory", \.spoolDirectory),
        choice("registry", \.registry, ["embedded"]),
        positiveInteger("max_rows", \.maxRows),
        size("max_file_size", \.maxFileSize),
        duration("settle_time", \.settleTime),
        duration("rescan_interval", \.rescanInterval, positive: true),
        positiveInteger("max_attempts", \.maxAttempts),
        duration("minimal_backoff_time", \.minimalBackoffTime),
        duration("maximal_backoff_time", \.maximalBackoffTime),
        duration("outage_minimal_backoff_time", \.outageMinimalBackoffTime),
        duration("outage_maximal_backoff_time", \.outageMaximalBackoffTime),
        positiveInteger("active_queue_limit", \.activeQueueLimit),
        enumeration("log_format", \.logFormat),
        enumeration("results_encoding", \.resultsEncoding),
        unixName("sftp_group", \.sftpGroup),
        absolutePath("authorized_keys_directory", \.authorizedKeysDirectory),
        absolutePath("metrics_file", \.metricsFile, emptyMeansNone: true),
    ]

    /// The parameters by name.
    static let byName: [String: ConfigurationParameter] =
        Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    // MARK: Kinds of parameter

    private static func text(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard !value.isEmpty else { return "\(name): expected a value" }
                configuration[keyPath: keyPath] = value
                return nil
            },
            render: { $0[keyPath: keyPath] })
    }

    /// A user or group name as Debian's `useradd`/`groupadd` take it.
    private static func unixName(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard UnixName.isValid(value) else {
                    return "\(name): expected a Unix group name (a-z, 0-9, _ and -, at most 32, not starting with - or a digit), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = value
                return nil
            },
            render: { $0[keyPath: keyPath] })
    }

    /// An absolute path with no control characters; with `emptyMeansNone`, also nothing at all
    /// (`metrics_file =`: no file).
    private static func absolutePath(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable, emptyMeansNone: Bool = false
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                if emptyMeansNone && value.isEmpty {
                    configuration[keyPath: keyPath] = ""
                    return nil
                }
                guard value.hasPrefix("/"), !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    return "\(name): expected an absolute path, got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = value
                return nil
            },
            render: { $0[keyPath: keyPath] })
    }

    private static func choice(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable, _ allowed: [String]
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard allowed.contains(value) else {
                    return "\(name): expected \(listing(allowed)), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = value
                return nil
            },
            render: { $0[keyPath: keyPath] })
    }

    private static func enumeration<Value: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Value> & Sendable
    ) -> ConfigurationParameter where Value.RawValue == String {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard let parsed = Value(rawValue: value) else {
                    return "\(name): expected \(listing(Value.allCases.map(\.rawValue))), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = parsed
                return nil
            },
            render: { $0[keyPath: keyPath].rawValue })
    }

    private static func positiveInteger(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Int> & Sendable
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value), number > 0 else {
                    return "\(name): expected a positive integer, got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = number
                return nil
            },
            render: { String($0[keyPath: keyPath]) })
    }

    private static func size(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Int> & Sendable
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard let bytes = SizeSyntax.parse(value) else {
                    return "\(name): \(SizeSyntax.expectation), got \(quoted(value))"
                }
                guard bytes > 0 else { return "\(name): must be more than 0 bytes, got \(quoted(value))" }
                configuration[keyPath: keyPath] = bytes
                return nil
            },
            render: { SizeSyntax.format($0[keyPath: keyPath]) })
    }

    private static func duration(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Double> & Sendable, positive: Bool = false
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard let seconds = DurationSyntax.parse(value) else {
                    return "\(name): \(DurationSyntax.expectation), got \(quoted(value))"
                }
                if positive, seconds <= 0 { return "\(name): must be longer than 0s, got \(quoted(value))" }
                configuration[keyPath: keyPath] = seconds
                return nil
            },
            render: { DurationSyntax.format($0[keyPath: keyPath]) })
    }
}

/// `"value"` with the quotes, as error messages show values.
func quoted(_ value: String) -> String {
    "\"" + value + "\""
}

/// `a or b`, `a, b or c`.
private func listing(_ values: [String]) -> String {
    guard values.count > 1 else { return values.first ?? "" }
    return values.dropLast().joined(separator: ", ") + " or " + values[values.count - 1]
}
