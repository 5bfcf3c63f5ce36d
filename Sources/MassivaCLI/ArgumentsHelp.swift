// Help text rendered from declarations.

extension CommandDeclaration {
    /// The synopsis after the command words: the declared `usage`, or one generated from the
    /// declaration, such as `[--tenant T] [--csv] <file>...`.
    public var synopsis: String {
        if let usage { return usage }
        var parts = options.map { "[\($0.name) \($0.valueName)]" } + flags.map { "[\($0.name)]" }
        for positional in positionals {
            let name = "<\(positional.name)>"
            switch (positional.minimum, positional.maximum) {
            case (_, 0?): continue
            case (0, 1?): parts.append("[\(name)]")
            case (0, _): parts.append("[\(name)...]")
            case (1, 1?): parts.append(name)
            default: parts.append("\(name)...")
            }
        }
        return parts.joined(separator: " ")
    }

    /// The help for this command: usage line, summary, then its arguments, options and flags with
    /// their descriptions, then the global options and `-h, --help`.
    ///
    /// - Parameter commandPath: how the command is invoked, such as `massiva tenant add`.
    public func helpText(commandPath: String, globalOptions: [OptionDeclaration] = [.config]) -> String {
        var text = "usage: \(commandPath)"
        if !synopsis.isEmpty { text += " " + synopsis }
        text += "\n\n\(summary)\n"
        var sections: [(title: String, rows: [(String, String)])] = []
        if !positionals.isEmpty {
            sections.append(("arguments", positionals.map { ("<\($0.name)>", $0.help) }))
        }
        let ownRows = options.map { ("\($0.name) \($0.valueName)", $0.help) } + flags.map { ($0.name, $0.help) }
        if !ownRows.isEmpty { sections.append(("options", ownRows)) }
        sections.append((
            "global options",
            globalOptions.map { ("\($0.name) \($0.valueName)", $0.help) } + [("-h, --help", "show this help")]
        ))
        text += renderSections(sections)
        return text
    }
}

/// Sections of two-column rows, the second column aligned across all sections.
func renderSections(_ sections: [(title: String, rows: [(String, String)])]) -> String {
    let width = sections.flatMap(\.rows).map(\.0.count).max() ?? 0
    var text = ""
    for section in sections {
        text += "\n\(section.title):\n"
        for (left, right) in section.rows {
            let padding = String(repeating: " ", count: width - left.count + 2)
            text += "  \(left)\(padding)\(right)\n"
        }
    }
    return text
}
