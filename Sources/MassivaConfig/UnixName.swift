/// User and group names as Debian's `useradd` and `groupadd` accept them by default
/// (`[a-z_][a-z0-9_-]*`, at most 32 characters), so a name massiva passes them never fails
/// late, in the middle of an operator command.
public enum UnixName {
    /// Whether `name` is a valid user or group name.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count), let first = bytes.first else { return false }
        guard (0x61...0x7A).contains(first) || first == 0x5F else { return false }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D }
    }
}
