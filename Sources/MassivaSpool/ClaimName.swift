/// The name an upload is claimed under in `private/claim/<tenant>/`, which is also its request's
/// key in the database (so a claim is never recorded twice): `<time><sequence>-<inode>-<name>`.
///
/// - `<time>` is the claim's time in microseconds and `<sequence>` the intake's count of claims,
///   both in hexadecimal: unique for one intake, and across restarts while time goes forward;
/// - `<inode>` is the upload's inode in hexadecimal, followed by `n` (`notUTF8Marker`) when the
///   upload's name is not UTF-8: it is claimed under its display name and refused for its name;
///   then by `i` (`cutShortMarker`) when the upload looked cut short and was not resumed in time
///   (`UploadCompletion`): its answer says so;
/// - `<name>` is the upload's name, so it survives a crash, cut so that the whole claim name
///   takes at most `maxBytes` bytes. The whole name of a cut one is kept in a sidecar,
///   `.<time><sequence>-<inode>-name` beside it (`sidecarName`): a dot-name, never a claim.
///
/// The one place that writes and reads these names: the intake claims with `init(now:…)` and
/// reads names back, from the folder after a crash, with `init(_:)`.
struct ClaimName: Hashable, Sendable, CustomStringConvertible {
    /// The whole name, as in the claim folder and in the database.
    let rawValue: String

    /// The longest claim name, in bytes (a file name takes 255).
    static let maxBytes = 250
    /// Ends the inode part of a claim name whose upload's name is not UTF-8 (not a hex digit).
    static let notUTF8Marker = "n"
    /// Ends the inode part of a claim name whose upload looked cut short (not a hex digit).
    static let cutShortMarker = "i"

    /// A name read back (from the claim folder, from a test).
    init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// The claim of an upload named `name` (its display form when `nameIsUTF8` is false), its
    /// inode `inode`, claimed at `now` as the intake's `sequence`-th claim.
    init(now: Double, sequence: Int, inode: UInt64, name: String, nameIsUTF8: Bool, cutShort: Bool = false) {
        let marker = (nameIsUTF8 ? "" : Self.notUTF8Marker) + (cutShort ? Self.cutShortMarker : "")
        let prefix = "\(String(UInt64(max(0, now) * 1_000_000), radix: 16))\(String(sequence, radix: 16))-\(String(inode, radix: 16))\(marker)-"
        var shortName = name
        while (prefix + shortName).utf8.count > Self.maxBytes { shortName.removeLast() }
        rawValue = prefix + shortName
    }

    var description: String { rawValue }

    private var parts: [Substring] {
        rawValue.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
    }

    /// Everything up to the second `-`, included; nil for a name of another form.
    var prefix: String? {
        let parts = parts
        return parts.count == 3 ? parts[0] + "-" + parts[1] + "-" : nil
    }

    /// The upload's name as it follows the prefix (cut, when the sidecar holds the whole one);
    /// the whole claim name for a name of another form.
    var originalName: String {
        let parts = parts
        return parts.count == 3 ? String(parts[2]) : rawValue
    }

    /// Whether the upload's name was not UTF-8.
    var isNotUTF8: Bool {
        let parts = parts
        return parts.count == 3 && parts[1].contains(Self.notUTF8Marker)
    }

    /// Whether the upload looked cut short when it was taken.
    var looksCutShort: Bool {
        let parts = parts
        return parts.count == 3 && parts[1].hasSuffix(Self.cutShortMarker)
    }

    /// Whether the name was made shorter than the upload's: `originalName` is not all of it.
    func isShortened(from name: String) -> Bool { originalName != name }

    /// Only a shortened claim name has a sidecar: it was cut to at most `maxBytes`, losing at most
    /// one character (4 bytes) too many. Shorter ones cost no look for one.
    var mayHaveSidecar: Bool { rawValue.utf8.count > Self.maxBytes - 5 }

    /// The name of the sidecar that holds the whole upload's name, when one was needed.
    var sidecarName: String? { prefix.map { "." + $0 + "name" } }

    /// Whether an entry of the claim folder is a sidecar (or another dot-name), not a claim.
    static func isSidecar(_ entry: String) -> Bool { entry.hasPrefix(".") }

    /// The prefix of the claim a sidecar belongs to; nil for a dot-name of another kind.
    static func prefix(ofSidecar entry: String) -> String? {
        guard entry.hasPrefix("."), entry.hasSuffix("-name") else { return nil }
        return String(entry.dropFirst().dropLast(4))
    }
}
