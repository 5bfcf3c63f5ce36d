/// `node_name`: a daemon's name among those sharing a spool. It becomes part of a file name
/// (`private/massiva-<node_name>.lock`) and a Prometheus label, so it is kept to a safe set.
public enum NodeName {
    /// 1 to 64 ASCII letters, digits, `.`, `_` and `-`, not starting with `.` or `-` (no hidden
    /// or option-like lock file names).
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), bytes[0] != UInt8(ascii: "."), bytes[0] != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }
}
