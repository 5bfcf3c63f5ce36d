import MassivaSystem

/// A tenant's `private/claim/` folder: uploads taken out of `incoming/` by rename (step 1 of the
/// intake), their sidecars, and where a claim goes once recorded (away, or aside to
/// `private/refused/` when it was refused unread).
struct ClaimFolder {
    let layout: SpoolLayout
    let tenant: String
    let log: EventLog

    var path: String { layout.claimDirectory(tenant) }

    func path(of claim: ClaimName) -> String { path + "/" + claim.rawValue }

    /// Step 1: `entry` of `incoming/` renamed to `claim`, atomically. A claim whose name had to
    /// be cut gets its sidecar first (NOME FILE once showed such a name cut).
    ///
    /// Over NFS a rename can report a failure after it succeeded: the client sends it again
    /// when the server's answer was lost, and the server, its duplicate request cache missed,
    /// answers the repeat with ENOENT (the source is gone: moved by the first). So when the
    /// source is gone and the claim's name holds the very file (`inode`, as seen before the
    /// rename), the claim is taken. Any other file there (none can be: claim names are unique)
    /// or none at all is the failure it says.
    func take(_ entry: RawFileName, as claim: ClaimName, inode: UInt64? = nil) throws(SystemError) {
        let name = entry.displayName
        if claim.isShortened(from: name), let sidecar = claim.sidecarName {
            writeSidecar(sidecar, name: name)
        }
        do {
            try FileSystem.rename(entry, in: layout.incoming(tenant), to: path(of: claim))
        } catch where error.errno == .noSuchFileOrDirectory {
            guard let inode, let landed = try? FileStatus.ofLink(path(of: claim)), landed.inode == inode else { throw error }
            log.log("claim_rename_repeated", ["tenant": tenant, "file": name, "claim": claim.rawValue])
        }
    }

    /// The claims in the folder (what a crash or a failed pass left), in order; sidecars whose
    /// claim is gone (a crash between the two) are removed: nothing will read them.
    func leftovers() -> [ClaimName] {
        let all = (try? FileSystem.listDirectory(path)) ?? []
        let claims = all.filter { !ClaimName.isSidecar($0) }.sorted().map(ClaimName.init)
        let prefixes = Set(claims.compactMap(\.prefix))
        for entry in all {
            if let prefix = ClaimName.prefix(ofSidecar: entry), !prefixes.contains(prefix) {
                try? FileSystem.unlink(path + "/" + entry)
            }
        }
        return claims
    }

    /// The whole name a claim was made for: its sidecar's, else the one in the claim name.
    func fileName(of claim: ClaimName) -> String {
        if claim.mayHaveSidecar, let sidecar = claim.sidecarName,
           let bytes = try? RegularFile.read(path + "/" + sidecar, limit: 4096, followSymlinks: false),
           let name = String(validating: bytes, as: UTF8.self), !name.isEmpty {
            return name
        }
        return claim.originalName
    }

    /// Removes a recorded claim, and its sidecar; an entry refused unread is kept aside for the
    /// operator instead, bounded and dated `now` (`RefusedFolder`).
    func finish(_ claim: ClaimName, refused: Bool, now: Double) {
        if claim.mayHaveSidecar, let sidecar = claim.sidecarName {
            try? FileSystem.unlink(path + "/" + sidecar)
        }
        if refused {
            RefusedFolder(layout: layout, tenant: tenant, log: log).keep(path(of: claim), as: claim.rawValue, now: now)
        } else {
            try? FileSystem.unlink(path(of: claim))
        }
    }

    private func writeSidecar(_ sidecar: String, name: String) {
        do {
            let fd = try FileDescriptor.open(path + "/" + sidecar, .writeOnly, options: [.create, .truncate, .noFollow, .closeOnExec],
                                             permissions: 0o600)
            try fd.closeAfter { try $0.writeAll(name.utf8) }
        } catch {
            // Only the shown name suffers: the claim keeps its shortened one.
            log.log("claim_name_unsaved", ["tenant": tenant, "file": name, "error": "\(error)"])
        }
    }
}
