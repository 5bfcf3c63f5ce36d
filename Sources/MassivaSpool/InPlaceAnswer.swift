import MassivaDomain
import MassivaStore
import MassivaSystem

/// An entry of `incoming/` that is not a regular file and cannot be claimed (a folder an SI made
/// over SFTP: moving a folder to another parent needs write access to the folder itself) is
/// answered where it is, once: one rejected request, keyed in the database by the entry's
/// device, inode and name (`key`) until it goes away; an empty folder is removed (the daemon
/// owns `incoming/`).
struct InPlaceAnswer {
    let layout: SpoolLayout
    let store: StateStore
    let log: EventLog

    /// The database key of an entry answered in place: its device, inode and name.
    static func key(name: String, status: FileStatus) -> String {
        var key = "inplace-\(String(status.device, radix: 16))-\(String(status.inode, radix: 16))-" + name
        while key.utf8.count > ClaimName.maxBytes { key.removeLast() }
        return key
    }

    /// Whether the entry was answered already (it is still there, as it was).
    func isAnswered(name: String, status: FileStatus) -> Bool {
        ((try? store.requestID(claimName: Self.key(name: name, status: status))) ?? nil) != nil
    }

    /// Records the entry as one rejected request and removes it when it can. Returns its id, or
    /// nil when the entry was gone or replaced meanwhile.
    func record(tenant: Tenant, entry: RawFileName, status: FileStatus, now: Double) throws -> RequestID? {
        let incoming = layout.incoming(tenant.id)
        guard let current = try? FileStatus.ofLink(entry, in: incoming), current.inode == status.inode, current.kind != .regular else { return nil }
        let name = entry.displayName
        let who = try store.configurator(ofOwner: current.userID, tenant: tenant.id)
        let rejection: FileRejection = !entry.isUTF8 ? .nameNotUTF8
            : current.kind == .directory ? .folder : .notRegularFile(kind: current.kind.italianName)
        let id = try store.transaction {
            try store.createRequest(tenant: tenant.id, fileName: name, configurator: who.name,
                                    configuratorPerson: who.person, claimName: Self.key(name: name, status: current),
                                    content: nil, rejection: rejection, now: now)
        }
        log.log("rejected", ["id": id.description, "tenant": tenant.id, "file": name, "reason": rejection.reason])
        if current.kind == .directory {
            do {
                try FileSystem.removeDirectory(entry, in: incoming)
            } catch {
                // Not claimed (moved), so the daemon may not write the folder (an SI's, mode
                // 0755: CAP_DAC_READ_SEARCH reads it, no more): its files stay where they are,
                // unread; the answer tells the SI to send them again as files. Logged once, with
                // the answer: the entry is keyed until it goes.
                log.log("folder_left", ["id": id.description, "tenant": tenant.id, "file": name, "error": "\(error)"])
            }
        }
        return id
    }
}

extension StateStore {
    /// CONFIGURATORE of an upload: the person of the SI account that owns it (`uid`), else its
    /// login.
    func configurator(ofOwner uid: UInt32, tenant: String) throws -> ConfiguratorIdentity {
        try configurator(login: UserName.of(uid: uid), tenant: tenant)
    }
}
