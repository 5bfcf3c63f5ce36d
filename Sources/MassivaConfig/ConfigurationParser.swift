import MassivaSystem

/// Reading configuration text in the Postfix `main.cf` style:
///
/// - `name = value` lines; whitespace around the name and the value is ignored;
/// - lines whose first non-blank character is `#` are comments, and blank lines are ignored
///   (there are no trailing comments: a `#` after a value is part of the value);
/// - a line starting with whitespace continues the value of the line before, joined with one space;
/// - an unknown name is an error; when a name appears twice, the last value wins
///   (every occurrence must still be valid);
/// - there is no `$name` expansion; a leading byte order mark is ignored.
extension Configuration {
    /// Parses configuration text over the defaults.
    ///
    /// - Parameters:
    ///   - text: the file contents.
    ///   - source: the name used in error messages, usually the file path.
    ///   - directory: what a relative `spool_directory` (including the default `./spool`) is resolved against.
    /// - Throws: the first problem found, with its line.
    public static func parse(
        _ text: String, source: String, relativeTo directory: String
    ) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration.defaults
        var definedOn: [String: Int] = [:]
        for entry in try logicalLines(text, source: source) {
            guard let equals = entry.text.firstIndex(of: "=") else {
                throw ConfigurationError(
                    source: source, line: entry.line,
                    message: "expected \"name = value\", got \(quoted(entry.text))")
            }
            let name = trimmed(entry.text[..<equals])
            let value = trimmed(entry.text[entry.text.index(after: equals)...])
            guard !name.isEmpty else {
                throw ConfigurationError(source: source, line: entry.line, message: "missing parameter name before \"=\"")
            }
            guard let parameter = ConfigurationParameter.byName[name] else {
                throw ConfigurationError(source: source, line: entry.line, message: "unknown parameter \(quoted(name))")
            }
            if let problem = parameter.apply(&configuration, value) {
                throw ConfigurationError(source: source, line: entry.line, message: problem)
            }
            definedOn[name] = entry.line
        }
        try checkBackoffOrder(
            configuration.minimalBackoffTime, configuration.maximalBackoffTime,
            names: ("minimal_backoff_time", "maximal_backoff_time"), definedOn: definedOn, source: source)
        try checkBackoffOrder(
            configuration.outageMinimalBackoffTime, configuration.outageMaximalBackoffTime,
            names: ("outage_minimal_backoff_time", "outage_maximal_backoff_time"), definedOn: definedOn,
            source: source)
        try checkBackoffOrder(
            configuration.associationMinimalBackoffTime, configuration.associationMaximalBackoffTime,
            names: ("association_minimal_backoff_time", "association_maximal_backoff_time"), definedOn: definedOn,
            source: source)
        return configuration.resolvingPaths(relativeTo: directory)
    }

    /// The largest configuration file read: a real one is a few KiB; `/dev/zero` or a
    /// multi-gigabyte file given by mistake is refused, not read without end.
    public static let maximumFileSize = 1_048_576

    /// Reads and parses the file at `path`; a relative `spool_directory` is resolved against
    /// the current directory. Errors name the file as `path` was given.
    ///
    /// - Throws: when the file cannot be read, is not UTF-8, or does not parse.
    public static func load(path: String) throws(ConfigurationError) -> Configuration {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: maximumFileSize)
        } catch {
            // The path is already the error's source: say only what went wrong.
            let message: String
            switch error {
            case .system(let problem): message = "cannot \(problem.operation == "open" ? "open" : "read"): \(problem.errno)"
            case .notRegular, .tooLarge: message = "cannot read: \(error)"
            }
            throw ConfigurationError(source: path, line: nil, message: message)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(source: path, line: nil, message: "not valid UTF-8 text")
        }
        return try parse(text, source: path, relativeTo: currentDirectory())
    }

    /// `name = value` lines in parameter order, values in canonical spelling (`300s` as `5m`, `1048576` as `1m`).
    ///
    /// With `onlyNonDefault`, only parameters whose value differs from `Configuration.defaults`
    /// (like `postconf -n`). A parsed configuration holds an absolute `spool_directory`, which
    /// differs from the default `./spool`, so it is always listed. Parsing the lines gives back
    /// an equal configuration.
    public func lines(onlyNonDefault: Bool) -> [String] {
        ConfigurationParameter.all.compactMap { parameter in
            let value = parameter.render(self)
            if onlyNonDefault, value == parameter.render(.defaults) { return nil }
            return "\(parameter.name) = \(value)"
        }
    }

    // MARK: Helpers

    /// One `name = value` definition after joining continuation lines, with the line it starts on.
    private struct LogicalLine {
        var line: Int
        var text: String
    }

    private static func logicalLines(_ text: String, source: String) throws(ConfigurationError) -> [LogicalLine] {
        var result: [LogicalLine] = []
        var number = 0
        // A byte order mark (some editors add one) is not part of the first name.
        let text = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        // Split on the scalar LF: as Characters, CR LF is one grapheme that is not "\n", so a
        // file with CRLF line ends would be read as a single line.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let scalars = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
            if let control = scalars.first(where: { $0 != "\t" && Limits.isControl($0) }) {
                // A stray CR, an escape sequence...: never part of a value (a path with one
                // would make a folder no one can name).
                throw ConfigurationError(
                    source: source, line: number,
                    message: "control character U+\(hex4(control.value)) in the line")
            }
            let line = Substring(String(String.UnicodeScalarView(scalars)))
            let content = trimmed(line)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if let first = line.first, first == " " || first == "\t" {
                guard !result.isEmpty else {
                    throw ConfigurationError(
                        source: source, line: number,
                        message: "continuation line (starting with whitespace) without a parameter before it")
                }
                result[result.count - 1].text += " " + content
            } else {
                result.append(LogicalLine(line: number, text: content))
            }
        }
        return result
    }

    private static func checkBackoffOrder(
        _ minimal: Double, _ maximal: Double, names: (minimal: String, maximal: String),
        definedOn: [String: Int], source: String
    ) throws(ConfigurationError) {
        guard maximal < minimal else { return }
        let line = [definedOn[names.minimal], definedOn[names.maximal]].compactMap { $0 }.max()
        throw ConfigurationError(
            source: source, line: line,
            message: "\(names.maximal) (\(DurationSyntax.format(maximal))) must not be shorter than "
                + "\(names.minimal) (\(DurationSyntax.format(minimal)))")
    }
}

private func trimmed(_ text: Substring) -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let start = text.firstIndex(where: { !isBlank($0) }),
          let end = text.lastIndex(where: { !isBlank($0) }) else { return "" }
    return String(text[start...end])
}

/// `U+000D`-style hex digits of a scalar value.
private func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

private func currentDirectory() -> String { CurrentProcess.currentDirectory ?? "." }
