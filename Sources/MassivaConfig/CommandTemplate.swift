/// A program to run as an argument vector, with placeholders such as `${pod}` replaced by whole
/// arguments: `probe_command = /usr/lib/massiva/probe-hes --pod ${pod}`.
///
/// As Postfix's `pipe(8)` `argv=`: the value is split on white space, there is no shell and no
/// quoting, so a value substituted into an argument can never become two arguments or a shell
/// construct, whatever it contains. A placeholder is only ever a whole argument (`--pod=${pod}`
/// is refused, not half-substituted), the program is an absolute path (no `PATH` search), and a
/// placeholder the command does not know is refused when the configuration is read.
public struct CommandTemplate: Sendable, Equatable, CustomStringConvertible {
    public enum Word: Sendable, Equatable {
        case literal(String)
        case placeholder(String)
    }

    public let words: [Word]

    /// `probe_command`'s placeholders.
    public static let probePlaceholders = ["pod", "tenant", "sid", "request"]
    /// `association_command`'s placeholders.
    public static let associationPlaceholders = ["event", "pod", "sid", "nid", "tenant", "request", "key", "event_id"]

    /// Reads `text`; returns what is wrong with it instead when it is not a command.
    public static func parse(_ text: String, placeholders: [String]) -> Result<CommandTemplate, CommandTemplateError> {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let program = parts.first else { return .failure(CommandTemplateError("expected a command")) }
        guard program.hasPrefix("/") else {
            return .failure(CommandTemplateError("the program must be an absolute path (no PATH search), got \"\(program)\""))
        }
        var words: [Word] = []
        for part in parts {
            if part.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                return .failure(CommandTemplateError("control characters in \"\(part)\""))
            }
            if part.hasPrefix("${") && part.hasSuffix("}") && part.count > 3 {
                let name = String(part.dropFirst(2).dropLast())
                guard placeholders.contains(name) else {
                    return .failure(CommandTemplateError("unknown placeholder \"\(part)\" (known: "
                        + placeholders.map { "${\($0)}" }.joined(separator: ", ") + ")"))
                }
                guard !words.isEmpty else { return .failure(CommandTemplateError("the program cannot be a placeholder")) }
                words.append(.placeholder(name))
            } else if part.contains("${") {
                return .failure(CommandTemplateError("a placeholder must be a whole argument, got \"\(part)\""))
            } else {
                words.append(.literal(part))
            }
        }
        return .success(CommandTemplate(words: words))
    }

    public init(words: [Word]) {
        self.words = words
    }

    /// The argument vector, each placeholder replaced by its value (empty when not given).
    public func arguments(_ values: [String: String]) -> [String] {
        words.map {
            switch $0 {
            case .literal(let text): return text
            case .placeholder(let name): return values[name] ?? ""
            }
        }
    }

    /// As written in the configuration.
    public var description: String {
        words.map {
            switch $0 {
            case .literal(let text): return text
            case .placeholder(let name): return "${\(name)}"
            }
        }.joined(separator: " ")
    }
}

/// Why a command template was refused.
public struct CommandTemplateError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
