/// An OpenSSH public key file as `massiva account add --key` takes it: one or more lines
/// `<type> <base64> [comment]`, as `ssh-keygen` writes them.
///
/// Lines with `authorized_keys` options (`command="..."`, `from=...`) are refused: the
/// account's restrictions come from the sshd configuration, never from a key the SI sent.
enum PublicKeyFile {
    static let keyTypes: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// The key lines, normalised (single spaces, LF), or what is wrong with `bytes` (line number).
    static func parse(_ bytes: [UInt8]) -> Result<[String], CLIError> {
        guard bytes.count <= 64 * 1024 else { return .failure(CLIError("the key file is larger than 64 KiB", status: 2)) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(CLIError("the key file is not UTF-8 text", status: 2))
        }
        var keys: [String] = []
        // Split on the scalar LF: as Characters, CR LF is one grapheme that is not "\n".
        for (index, rawLine) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
            let trimmed = String(String.UnicodeScalarView(line)).trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let where_ = "key file line \(index + 1)"
            guard let type = fields.first, keyTypes.contains(type) else {
                return .failure(CLIError("\(where_): not a public key (expected one of \(keyTypes.sorted().joined(separator: ", ")) first; options are not accepted)", status: 2))
            }
            guard fields.count >= 2, isBase64(fields[1]) else {
                return .failure(CLIError("\(where_): the key data is not base64", status: 2))
            }
            guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                return .failure(CLIError("\(where_): control characters", status: 2))
            }
            keys.append(fields.joined(separator: " "))
        }
        guard !keys.isEmpty else { return .failure(CLIError("the key file holds no public key", status: 2)) }
        return .success(keys)
    }

    private static func isBase64(_ text: String) -> Bool {
        guard text.utf8.count >= 16, text.utf8.count % 4 == 0 else { return false }
        return text.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F || $0 == 0x3D }
    }
}
