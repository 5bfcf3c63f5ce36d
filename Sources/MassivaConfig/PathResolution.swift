/// Making configured paths absolute.
enum PathResolution {
    /// `path` unchanged when absolute, else joined to `directory`; `.` components and
    /// repeated slashes are dropped. `directory` should itself be absolute (`..` is kept: symbolic links make it ambiguous).
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        let parts = joined.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let rest = parts.joined(separator: "/")
        if joined.hasPrefix("/") { return "/" + rest }
        return rest.isEmpty ? "." : rest
    }
}
