import MassivaDatabase

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
        path("spool_directory", \.spoolDirectory),
        database("database", \.database),
        choice("registry", \.registry, ["embedded"]),
        positiveInteger("max_rows", \.maxRows, maximum: Limits.maxRows),
        size("max_file_size", \.maxFileSize, maximum: Limits.maxFileSize),
        duration("settle_time", \.settleTime),
        duration("resume_time", \.resumeTime),
        duration("rescan_interval", \.rescanInterval, minimum: Limits.shortestRescan),
        positiveInteger("max_attempts", \.maxAttempts, maximum: Limits.maxAttempts),
        duration("minimal_backoff_time", \.minimalBackoffTime),
        duration("maximal_backoff_time", \.maximalBackoffTime),
        duration("outage_minimal_backoff_time", \.outageMinimalBackoffTime),
        duration("outage_maximal_backoff_time", \.outageMaximalBackoffTime),
        positiveInteger("active_queue_limit", \.activeQueueLimit, maximum: Limits.activeQueueLimit),
        duration("result_retention", \.resultRetention),
        duration("duplicate_upload_window", \.duplicateUploadWindow),
        enumeration("log_format", \.logFormat),
        enumeration("results_encoding", \.resultsEncoding),
        unixName("sftp_group", \.sftpGroup),
        absolutePath("authorized_keys_directory", \.authorizedKeysDirectory),
        command("probe_command", \.probeCommand, placeholders: CommandTemplate.probePlaceholders),
        duration("probe_timeout", \.probeTimeout, minimum: 0.001, maximum: 3600),
        integer("probe_concurrency", \.probeConcurrency, in: 1...256),
        integer("tenant_probe_concurrency", \.tenantProbeConcurrency, in: 0...256),
        positiveInteger("tenant_queue_limit", \.tenantQueueLimit, maximum: Limits.tenantQueueLimit),
        command("association_command", \.associationCommand, placeholders: CommandTemplate.associationPlaceholders),
        duration("association_timeout", \.associationTimeout, minimum: 0.001, maximum: 3600),
        duration("association_minimal_backoff_time", \.associationMinimalBackoffTime, minimum: 0.001),
        duration("association_maximal_backoff_time", \.associationMaximalBackoffTime, minimum: 0.001),
        absolutePath("metrics_file", \.metricsFile, emptyMeansNone: true),
        // At least a second: renewed every third of it, a shorter lease would be renewed more
        // often than SQLite's busy wait or a PostgreSQL round trip can be relied on to answer.
        // At most an hour: the longest a spool would wait for a standby after its leader died.
        duration("leader_lease_time", \.leaderLeaseTime, minimum: 1, maximum: 3600),
        text("node_name", \.nodeName) { value in
            value.isEmpty || NodeName.isValid(value) ? nil
                : "expected a name of 1 to 64 letters, digits, '.', '_' and '-', not starting with '.' or '-', got \(quoted(value))"
        },
    ]

    /// The parameters by name.
    static let byName: [String: ConfigurationParameter] =
        Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    // MARK: Kinds of parameter

    /// A text value stored as it is once `problem` finds nothing wrong with it.
    private static func text(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable,
        _ problem: @escaping @Sendable (String) -> String?
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                if let problem = problem(value) { return "\(name): \(problem)" }
                configuration[keyPath: keyPath] = value
                return nil
            },
            render: { $0[keyPath: keyPath] })
    }

    /// A path, absolute or relative (resolved later). Control characters are already refused
    /// in every value (`Configuration.parse`).
    private static func path(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable
    ) -> ConfigurationParameter {
        text(name, keyPath) { value in
            if value.isEmpty { return "expected a value" }
            if value.utf8.count > Limits.pathLength { return "a path of at most \(Limits.pathLength) bytes, got \(value.utf8.count)" }
            return nil
        }
    }

    /// `database`: checked by `DatabaseLocation`, the one parser of the value (no embedded path
    /// is known here: only whether the value is valid counts), kept as written, empty as
    /// `sqlite`. Rendered without a password, should a configuration made in code hold one.
    private static func database(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                do {
                    _ = try DatabaseLocation(setting: value, embeddedPath: "")
                } catch {
                    // Its description names the setting (without a password) and the reason.
                    return "\(error)"
                }
                configuration[keyPath: keyPath] = value.isEmpty ? "sqlite" : value
                return nil
            },
            render: { DatabaseLocation.redacted($0[keyPath: keyPath]) })
    }

    /// A user or group name as Debian's `useradd`/`groupadd` take it.
    private static func unixName(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable
    ) -> ConfigurationParameter {
        text(name, keyPath) { value in
            UnixName.isValid(value) ? nil
                : "expected a Unix group name (a-z, 0-9, _ and -, at most 32, not starting with - or a digit), got \(quoted(value))"
        }
    }

    /// An absolute path with no control characters; with `emptyMeansNone`, also nothing at all
    /// (`metrics_file =`: no file).
    private static func absolutePath(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, String> & Sendable, emptyMeansNone: Bool = false
    ) -> ConfigurationParameter {
        text(name, keyPath) { value in
            if emptyMeansNone && value.isEmpty { return nil }
            return value.hasPrefix("/") && value.utf8.count <= Limits.pathLength && !value.unicodeScalars.contains(where: Limits.isControl)
                ? nil : "expected an absolute path, got \(quoted(value))"
        }
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
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Int> & Sendable, maximum: Int
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value),
                      number > 0, number <= maximum else {
                    return "\(name): expected a whole number from 1 to \(maximum), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = number
                return nil
            },
            render: { String($0[keyPath: keyPath]) })
    }

    private static func size(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Int> & Sendable, maximum: Int
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard let bytes = SizeSyntax.parse(value) else {
                    return "\(name): \(SizeSyntax.expectation), got \(quoted(value))"
                }
                guard bytes > 0 else { return "\(name): must be more than 0 bytes, got \(quoted(value))" }
                guard bytes <= maximum else {
                    return "\(name): at most \(SizeSyntax.format(maximum)), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = bytes
                return nil
            },
            render: { SizeSyntax.format($0[keyPath: keyPath]) })
    }

    /// An argument vector with placeholders (`CommandTemplate`); empty: none.
    private static func command(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, CommandTemplate?> & Sendable, placeholders: [String]
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                if value.isEmpty {
                    configuration[keyPath: keyPath] = nil
                    return nil
                }
                guard value.utf8.count <= 4 * Limits.pathLength else {
                    return "\(name): a command of at most \(4 * Limits.pathLength) bytes, got \(value.utf8.count)"
                }
                switch CommandTemplate.parse(value, placeholders: placeholders) {
                case .success(let template):
                    configuration[keyPath: keyPath] = template
                    return nil
                case .failure(let error):
                    return "\(name): \(error.message)"
                }
            },
            render: { $0[keyPath: keyPath]?.description ?? "" })
    }

    private static func integer(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Int> & Sendable, in range: ClosedRange<Int>
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value), range.contains(number) else {
                    return "\(name): expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = number
                return nil
            },
            render: { String($0[keyPath: keyPath]) })
    }

    /// A duration from `minimum` to `maximum` (at most `Limits.longestDuration`): every later
    /// use (a timer, a retry time, a timestamp) stays far from the limits of `Int`, `time_t`
    /// and Dispatch.
    private static func duration(
        _ name: String, _ keyPath: WritableKeyPath<Configuration, Double> & Sendable, minimum: Double = 0,
        maximum: Double = Limits.longestDuration
    ) -> ConfigurationParameter {
        ConfigurationParameter(
            name: name,
            apply: { configuration, value in
                guard let seconds = DurationSyntax.parse(value) else {
                    return "\(name): \(DurationSyntax.expectation), got \(quoted(value))"
                }
                if seconds < minimum {
                    return "\(name): at least \(DurationSyntax.format(minimum)), got \(quoted(value))"
                }
                if seconds > maximum {
                    return "\(name): at most \(DurationSyntax.format(maximum)), got \(quoted(value))"
                }
                configuration[keyPath: keyPath] = seconds
                return nil
            },
            render: { DurationSyntax.format($0[keyPath: keyPath]) })
    }
}

/// The ranges of the configuration's values.
enum Limits {
    /// The longest duration of any parameter: a year.
    static let longestDuration: Double = 365 * 86_400
    /// The shortest `rescan_interval`: a tighter loop would only burn the CPU.
    static let shortestRescan: Double = 0.1
    /// `max_rows`: the largest value; a request of 100 rows is the norm.
    static let maxRows = 100_000
    /// `max_file_size`: the largest value. Memory grows with it (an upload is held whole
    /// while it is recorded and parsed).
    static let maxFileSize = 64 * 1_048_576
    /// `max_attempts`: the largest value.
    static let maxAttempts = 1000
    /// `active_queue_limit`: the largest value.
    static let activeQueueLimit = 100_000
    /// `tenant_queue_limit`: the largest value.
    static let tenantQueueLimit = 10_000_000
    /// The longest path (`PATH_MAX` is 4096 bytes with its NUL).
    static let pathLength = 4095

    /// A control character (C0, DEL, C1): never part of a value, of a path least of all.
    @Sendable static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
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
