/// Where everything lives under the spool directory.
///
/// ```
/// <spool>/tenants/<tenant>/incoming/          SI uploads (SFTP, chrooted to tenants/<tenant>)
/// <spool>/tenants/<tenant>/results/<REQ>/     one folder per request
/// <spool>/tenants/<tenant>/results/richieste.csv
/// <spool>/tenants/<tenant>/template.csv       the CSV template, for the SI
/// <spool>/private/massiva.db                  state and embedded registry (SQLite, WAL)
/// <spool>/private/claim/<tenant>/             uploads taken by rename, until recorded
/// <spool>/private/refused/<tenant>/           entries refused unread (links, FIFOs, ...)
/// <spool>/private/tmp/                        result files being written
/// <spool>/private/massiva.lock                held by the running `serve`
/// <spool>/private/results.lock                held while result files are written
/// ```
/// Everything under `private/` is outside any tenant's chroot.
public struct SpoolLayout: Sendable, Equatable {
    public let root: String

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    public var tenantsDirectory: String { root + "/tenants" }
    public func tenantDirectory(_ tenant: String) -> String { tenantsDirectory + "/" + tenant }
    public func incoming(_ tenant: String) -> String { tenantDirectory(tenant) + "/incoming" }
    public func results(_ tenant: String) -> String { tenantDirectory(tenant) + "/results" }
    /// The CSV template of a bulk request, in the SI's own folder.
    public func templatePath(_ tenant: String) -> String { tenantDirectory(tenant) + "/template.csv" }
    public func resultFolder(_ tenant: String, _ request: String) -> String { results(tenant) + "/" + request }

    public var privateDirectory: String { root + "/private" }
    public var databasePath: String { privateDirectory + "/massiva.db" }
    public var temporaryDirectory: String { privateDirectory + "/tmp" }
    public var lockPath: String { privateDirectory + "/massiva.lock" }
    /// Serialises the writers of result files (the daemon's threads, operator commands).
    public var resultsLockPath: String { privateDirectory + "/results.lock" }
    public func claimDirectory(_ tenant: String) -> String { privateDirectory + "/claim/" + tenant }
    public func refusedDirectory(_ tenant: String) -> String { privateDirectory + "/refused/" + tenant }
}

/// Tenant ids become folder names: only a safe, short alphabet is allowed.
public enum TenantID {
    public static func isValid(_ id: String) -> Bool {
        let b = Array(id.utf8)
        guard (1...64).contains(b.count) else { return false }
        guard let first = b.first, (0x61...0x7A).contains(first) || (0x30...0x39).contains(first) else { return false }
        return b.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F }
    }
}
