import MassivaSystem

/// `private/wakeup`: operator commands (`submit`, `cancel`, `flush`, `retry`) touch it so a
/// running daemon, which watches `private/`, looks at the queue at once instead of at its next
/// rescan. Its content does not matter.
public enum Wakeup {
    public static let fileName = "wakeup"

    public static func path(_ layout: SpoolLayout) -> String { layout.privateDirectory + "/" + fileName }

    /// Best effort: without a daemon, or if it cannot be written, nothing is lost (the daemon's
    /// rescan finds the work anyway).
    public static func touch(_ layout: SpoolLayout) {
        guard let fd = try? FileDescriptor.open(path(layout), .writeOnly, options: [.create, .truncate, .closeOnExec, .noFollow, .nonBlocking],
                                                permissions: 0o600) else { return }
        try? fd.close()
    }
}
