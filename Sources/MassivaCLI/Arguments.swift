// A small declarative command-line parser: each command declares its options, flags and
// positional arguments; parsing and `--help` text both come from that declaration.
//
// Accepted syntax: `--option value`, `--option=value`, `--flag`, `--` (everything after it
// is positional), `-h`/`--help`. A value beginning with `-` must be written `--option=value`
// (a lone `-` is an ordinary value). Global options such as `--config PATH` may appear
// anywhere, before or after the command words.

/// An option that takes exactly one value, such as `--tenant T`. It may be given at most once.
public struct OptionDeclaration: Sendable, Equatable {
    /// The spelling, with the dashes: `--tenant`.
    public var name: String
    /// The placeholder shown in help: `T`, `DATE`, `PATH`.
    public var valueName: String
    /// One line for the help text.
    public var help: String

    /// Declares `name VALUE`.
    public init(_ name: String, valueName: String, help: String) {
        self.name = name
        self.valueName = valueName
        self.help = help
    }

    /// The global `--config PATH` option.
    public static let config = OptionDeclaration(
        "--config", valueName: "PATH",
        help: "configuration file (default: $MASSIVA_CONFIG, else /etc/massiva/massiva.cf if it exists, else built-in defaults)")
}

/// A boolean option without a value, such as `--csv`.
public struct FlagDeclaration: Sendable, Equatable {
    /// The spelling, with the dashes: `--csv`.
    public var name: String
    /// One line for the help text.
    public var help: String

    /// Declares the flag `name`.
    public init(_ name: String, help: String) {
        self.name = name
        self.help = help
    }
}

/// A named group of positional arguments, such as one `<tenant>` or any number of `<file>`s.
public struct PositionalDeclaration: Sendable, Equatable {
    /// The name shown in help and errors, without brackets: `file`.
    public var name: String
    /// The fewest arguments of this kind.
    public var minimum: Int
    /// The most arguments of this kind; nil for no limit.
    public var maximum: Int?
    /// One line for the help text.
    public var help: String

    /// Declares between `minimum` and `maximum` (nil: unlimited) positional arguments called `name`.
    public init(_ name: String, minimum: Int = 1, maximum: Int? = 1, help: String) {
        precondition(minimum >= 0 && (maximum ?? minimum) >= minimum, "bad bounds for <\(name)>")
        self.name = name
        self.minimum = minimum
        self.maximum = maximum
        self.help = help
    }
}

/// One command, such as `tenant add`: what it accepts and how it describes itself.
public struct CommandDeclaration: Sendable, Equatable {
    /// The command words after the program name: `["tenant", "add"]`.
    public var path: [String]
    /// One line saying what the command does.
    public var summary: String
    /// The synopsis after the command words, when the generated one is not good enough
    /// (for instance to show alternatives). Nil: generated from the declaration.
    public var usage: String?
    /// Options taking one value each.
    public var options: [OptionDeclaration]
    /// Boolean flags.
    public var flags: [FlagDeclaration]
    /// Positional arguments, in order. Only the last should have a range wider than one.
    public var positionals: [PositionalDeclaration]

    /// Declares a command.
    public init(
        _ path: [String], summary: String, usage: String? = nil, options: [OptionDeclaration] = [],
        flags: [FlagDeclaration] = [], positionals: [PositionalDeclaration] = []
    ) {
        self.path = path
        self.summary = summary
        self.usage = usage
        self.options = options
        self.flags = flags
        self.positionals = positionals
    }
}

/// A command line that does not fit the declaration. `description` is the message alone,
/// for instance `unknown option --foo`; print it after the command path.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// The result of parsing one command's arguments, with typed access by declared name.
public struct ParsedArguments: Sendable, Equatable {
    /// True when `-h` or `--help` was given: print the help text and do nothing else.
    /// Positional counts are not checked in that case.
    public var helpRequested: Bool
    /// The positional arguments, in order.
    public var positionals: [String]
    private var values: [String: String]
    private var setFlags: Set<String>
    private var declaredOptions: Set<String>
    private var declaredFlags: Set<String>
    private var positionalGroups: [String: [String]]

    init(
        helpRequested: Bool, positionals: [String], values: [String: String], flags: Set<String>,
        declaredOptions: Set<String>, declaredFlags: Set<String>, positionalGroups: [String: [String]]
    ) {
        self.helpRequested = helpRequested
        self.positionals = positionals
        self.values = values
        self.setFlags = flags
        self.declaredOptions = declaredOptions
        self.declaredFlags = declaredFlags
        self.positionalGroups = positionalGroups
    }

    /// The value of option `name` (`"--tenant"`), or nil when it was not given.
    /// Asking for an undeclared option is a programming error and traps.
    public func value(_ name: String) -> String? {
        precondition(declaredOptions.contains(name), "option \(name) is not declared")
        return values[name]
    }

    /// Whether the command declares option `name` (asking for its value would not trap).
    public func declares(_ name: String) -> Bool { declaredOptions.contains(name) }

    /// Whether flag `name` (`"--csv"`) was given. Asking for an undeclared flag traps.
    public func flag(_ name: String) -> Bool {
        precondition(declaredFlags.contains(name), "flag \(name) is not declared")
        return setFlags.contains(name)
    }

    /// The value of option `name`, or a `UsageError` saying it is required.
    public func require(_ name: String) throws(UsageError) -> String {
        guard let value = value(name) else { throw UsageError("missing required option \(name)") }
        return value
    }

    /// The positional arguments that fell to the declaration called `name` (`"file"`).
    /// Asking for an undeclared name traps.
    public func positionals(named name: String) -> [String] {
        guard let group = positionalGroups[name] else { preconditionFailure("positional <\(name)> is not declared") }
        return group
    }
}
