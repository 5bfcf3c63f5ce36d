import MassivaSystem

/// The permission scheme of a deployed spool: who owns each folder, and with what mode.
///
/// Designed around OpenSSH's chroot rule (the chroot folder `tenants/<id>` and every folder
/// above it root-owned and not writable by group or others) and a daemon that runs as its own
/// user. Each tenant has a Unix group, `si-<id>`, holding its SFTP accounts:
///
/// | path | owner:group | mode | why |
/// |---|---|---|---|
/// | `<spool>`, `tenants/` | root:root | 0755 | above a chroot |
/// | `tenants/<id>/` | root:root | 0755 | the SI's chroot |
/// | `tenants/<id>/template.csv` | root:root | 0644 | the CSV template, for the SI |
/// | `tenants/<id>/incoming/` | daemon:si-<id> | 1770 | the SI's accounts upload; the daemon takes files out; sticky: an account removes only its own uploads |
/// | `tenants/<id>/results/` | daemon:si-<id> | 0750 | only the SI's accounts enter; only the daemon writes |
/// | `results/<REQ>/`, its files, the lists | daemon:daemon | 0755, 0644 | set explicitly, whatever the umask; reachable only through `results/` |
/// | `private/` and below | daemon:daemon | 0700 | the daemon's state |
///
/// The result files need no group of their own: `results/` is the gate, so a new tenant needs
/// no restart of the daemon to gain a group membership.
public enum SpoolPermissions {
    /// One folder or file of the scheme.
    public struct Entry: Equatable, Sendable {
        public var path: String
        public var uid: UInt32
        public var gid: UInt32
        public var mode: UInt32
        public var isDirectory: Bool
    }

    /// Whose the daemon's parts are, and the tenant's group.
    public struct Owners: Equatable, Sendable {
        /// The daemon's user and group (the owner of `private/`).
        public var daemonUID: UInt32
        public var daemonGID: UInt32
        /// The tenant's group (`si-<id>`).
        public var tenantGID: UInt32

        public init(daemonUID: UInt32, daemonGID: UInt32, tenantGID: UInt32) {
            self.daemonUID = daemonUID
            self.daemonGID = daemonGID
            self.tenantGID = tenantGID
        }
    }

    /// The Unix group of a tenant's SFTP accounts, or nil when the id is too long to make one
    /// (group names have at most 32 characters).
    public static func tenantGroup(_ tenant: String) -> String? {
        let name = "si-" + tenant
        return name.utf8.count <= 32 ? name : nil
    }

    /// The shared folders of the spool (above every chroot), root's.
    public static func sharedEntries(_ layout: SpoolLayout) -> [Entry] {
        [Entry(path: layout.tenantsDirectory, uid: 0, gid: 0, mode: 0o755, isDirectory: true)]
    }

    /// A tenant's folders and its template, in creation order (parents first).
    public static func tenantEntries(_ layout: SpoolLayout, tenant: String, owners: Owners) -> [Entry] {
        [
            Entry(path: layout.tenantDirectory(tenant), uid: 0, gid: 0, mode: 0o755, isDirectory: true),
            Entry(path: layout.incoming(tenant), uid: owners.daemonUID, gid: owners.tenantGID, mode: 0o1770, isDirectory: true),
            Entry(path: layout.results(tenant), uid: owners.daemonUID, gid: owners.tenantGID, mode: 0o750, isDirectory: true),
            Entry(path: layout.templatePath(tenant), uid: 0, gid: 0, mode: 0o644, isDirectory: false),
            Entry(path: FileSystem.parentDirectory(of: layout.claimDirectory(tenant)), uid: owners.daemonUID, gid: owners.daemonGID, mode: 0o700, isDirectory: true),
            Entry(path: layout.claimDirectory(tenant), uid: owners.daemonUID, gid: owners.daemonGID, mode: 0o700, isDirectory: true),
            Entry(path: FileSystem.parentDirectory(of: layout.refusedDirectory(tenant)), uid: owners.daemonUID, gid: owners.daemonGID, mode: 0o700, isDirectory: true),
            Entry(path: layout.refusedDirectory(tenant), uid: owners.daemonUID, gid: owners.daemonGID, mode: 0o700, isDirectory: true),
        ]
    }
}
