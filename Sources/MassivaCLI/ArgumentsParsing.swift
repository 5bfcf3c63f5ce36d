// Parsing one command's arguments against its declaration.

extension CommandDeclaration {
    /// Parses `arguments` (those after the command words) against this declaration.
    ///
    /// - Parameter globalOptions: options accepted by every command, such as `OptionDeclaration.config`;
    ///   their values are read with `value(_:)` like the command's own.
    /// - Throws: `UsageError` for an unknown option, a missing or repeated value, a value given to
    ///   a flag, or too few / too many positional arguments (not checked when help is requested).
    public func parse(
        _ arguments: [String], globalOptions: [OptionDeclaration] = []
    ) throws(UsageError) -> ParsedArguments {
        let allOptions = options + globalOptions
        let optionNames = Set(allOptions.map(\.name))
        let flagNames = Set(flags.map(\.name))
        var values: [String: String] = [:]
        var setFlags: Set<String> = []
        var positionalArguments: [String] = []
        var helpRequested = false
        var onlyPositionals = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                positionalArguments.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            if argument == "-h" || argument == "--help" {
                helpRequested = true
                continue
            }
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if optionNames.contains(name) {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else if index < arguments.count, !looksLikeOption(arguments[index]) {
                    value = arguments[index]
                    index += 1
                } else {
                    throw UsageError("missing value for \(name)")
                }
                guard values[name] == nil else { throw UsageError("option \(name) given more than once") }
                values[name] = value
            } else if flagNames.contains(name) {
                guard inlineValue == nil else { throw UsageError("flag \(name) does not take a value") }
                setFlags.insert(name)
            } else {
                throw UsageError("unknown option \(name)")
            }
        }
        var groups: [String: [String]] = [:]
        if helpRequested {
            for declaration in positionals { groups[declaration.name] = [] }
        } else {
            groups = try assignPositionals(positionalArguments)
        }
        return ParsedArguments(
            helpRequested: helpRequested, positionals: positionalArguments, values: values, flags: setFlags,
            declaredOptions: optionNames, declaredFlags: flagNames, positionalGroups: groups)
    }

    /// Splits the positional arguments among the declarations, earlier ones taking as many as they may
    /// while leaving enough for the minimums of later ones.
    private func assignPositionals(_ arguments: [String]) throws(UsageError) -> [String: [String]] {
        var required = 0
        for declaration in positionals {
            required += declaration.minimum
            if arguments.count < required {
                throw UsageError(
                    declaration.minimum > 1
                        ? "missing argument <\(declaration.name)> (at least \(declaration.minimum) needed)"
                        : "missing argument <\(declaration.name)>")
            }
        }
        var groups: [String: [String]] = [:]
        var next = 0
        for (position, declaration) in positionals.enumerated() {
            let laterMinimum = positionals[(position + 1)...].reduce(0) { $0 + $1.minimum }
            var count = arguments.count - next - laterMinimum
            if let maximum = declaration.maximum { count = min(count, maximum) }
            groups[declaration.name] = Array(arguments[next..<(next + count)])
            next += count
        }
        if next < arguments.count {
            let extra = arguments[next]
            throw UsageError(
                positionals.isEmpty
                    ? "unexpected argument \"\(extra)\" (this command takes no arguments)"
                    : "too many arguments: unexpected \"\(extra)\"")
        }
        return groups
    }
}

/// Whether `argument` would be read as an option rather than as a value.
func looksLikeOption(_ argument: String) -> Bool {
    argument.hasPrefix("-") && argument != "-"
}
