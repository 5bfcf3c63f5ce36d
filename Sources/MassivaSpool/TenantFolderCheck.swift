import MassivaSystem

/// A tenant's folders must be real folders: the tenant folder (the SI's chroot), `incoming/`
/// and `results/`. A symbolic link in their place (made by hand, or by a client the sshd
/// configuration did not stop) would have the engine read uploads from, and write results
/// to, a place outside the spool: such a tenant is refused, never followed.
public enum TenantFolderCheck {
    /// What is wrong with `tenant`'s folders, or nil when each is a folder or is missing (a
    /// missing one is the intake's to report). Checked with `lstat`: links are not followed.
    public static func problem(_ layout: SpoolLayout, tenant: String) -> String? {
        for path in [layout.tenantDirectory(tenant), layout.incoming(tenant), layout.results(tenant)] {
            guard let status = try? FileStatus.ofLink(path) else { continue }
            if status.kind != .directory {
                return "\(path) is a \(status.kind.rawValue), not a folder: refused, never followed"
            }
        }
        return nil
    }
}
