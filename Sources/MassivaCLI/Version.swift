/// The one place that holds massiva's version: `massiva --version` prints it, and
/// `scripts/package` reads it from here (the `let version = "..."` line) to name the .deb and
/// fill DEBIAN/control. Debian version syntax: digits and dots, no leading `v`.
public enum MassivaVersion {
    public static let version = "1.0.0"
}
