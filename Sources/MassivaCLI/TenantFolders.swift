import MassivaSpool
import MassivaSystem

/// Steps of a root command that must be undone if a later step fails, so that a failed
/// `tenant add` or `account add` leaves nothing behind (newest first).
struct UndoList {
    private var steps: [() -> Void] = []

    mutating func add(_ step: @escaping () -> Void) { steps.append(step) }

    func run() { for step in steps.reversed() { step() } }
}

/// Creates a tenant's folders by the permission scheme (`SpoolPermissions`).
enum TenantFolders {
    /// Makes (or repairs) a tenant's folders and template. On a deployed spool (run as root,
    /// `private/` another user's) everything gets the scheme's owners and modes, and the
    /// tenant's group is created when missing; elsewhere (a developer's spool) the folders are
    /// the current user's. What it created is added to `undo`.
    static func create(_ tenant: String, layout: SpoolLayout, owner: UnixUser?, undo: inout UndoList) throws {
        // Run as root, chown/chmod through a link would change what it points to, outside the
        // spool: a tenant whose folders (or template) are links is refused, never followed.
        if let problem = TenantFolderCheck.problem(layout, tenant: tenant) { throw CLIError(problem) }
        if let template = try? FileStatus.ofLink(layout.templatePath(tenant)), template.kind != .regular {
            throw CLIError("\(layout.templatePath(tenant)) is a \(template.kind.rawValue), not a file: refused, never followed")
        }
        guard let owner else {
            for directory in [layout.incoming(tenant), layout.results(tenant), layout.claimDirectory(tenant), layout.refusedDirectory(tenant)] {
                try makeDirectory(directory, undo: &undo)
            }
            try writeTemplate(layout.templatePath(tenant), undo: &undo)
            return
        }
        guard let groupName = SpoolPermissions.tenantGroup(tenant) else {
            throw CLIError("tenant id \"\(tenant)\" is too long for its Unix group si-\(tenant) (at most 29 characters)", status: 2)
        }
        let group = try ensureGroup(groupName, undo: &undo)
        let owners = SpoolPermissions.Owners(daemonUID: owner.uid, daemonGID: owner.gid, tenantGID: group.gid)
        for entry in SpoolPermissions.sharedEntries(layout) + SpoolPermissions.tenantEntries(layout, tenant: tenant, owners: owners) {
            if entry.isDirectory {
                try makeDirectory(entry.path, undo: &undo)
            } else {
                try writeTemplate(entry.path, undo: &undo)
            }
            do {
                try FileSystem.setOwner(entry.path, uid: entry.uid, gid: entry.gid)
                try FileSystem.setPermissions(entry.path, entry.mode)
            } catch {
                throw CLIError("cannot set the owner and mode of \(entry.path): \(error)")
            }
        }
        for problem in chrootProblems(layout.tenantDirectory(tenant)) { Output.error("massiva: warning: \(problem)") }
    }

    /// The tenant's Unix group (`groupadd --system` when missing).
    static func ensureGroup(_ name: String, undo: inout UndoList) throws -> UnixGroup {
        if let group = UnixGroup.named(name) { return group }
        try runTool(["groupadd", "--system", name])
        undo.add { _ = try? Subprocess.run(["groupdel", name]) }
        guard let group = UnixGroup.named(name) else { throw CLIError("groupadd made no group \(name)") }
        return group
    }

    /// Runs a system tool; a failure is an error that says what it printed.
    static func runTool(_ arguments: [String]) throws {
        let outcome: Subprocess.Outcome
        do { outcome = try Subprocess.run(arguments) } catch { throw CLIError("cannot run \(arguments[0]): \(error)") }
        guard outcome.succeeded else {
            let said = outcome.errorOutput.split(whereSeparator: \.isNewline).joined(separator: "; ")
            throw CLIError("\(arguments[0]) failed (exit \(outcome.status))\(said.isEmpty ? "" : ": " + said)")
        }
    }

    /// Best effort for the engine and `submit`: the daemon's own folders of a tenant, and the
    /// public ones where it may make them (a developer's spool). A deployed tenant's public
    /// folders are root's to make; a missing one is reported by the intake, not fatal here.
    static func ensure(_ tenant: String, layout: SpoolLayout) {
        for directory in [layout.claimDirectory(tenant), layout.refusedDirectory(tenant), layout.incoming(tenant), layout.results(tenant)] {
            if !FileSystem.exists(directory) { try? FileSystem.makeDirectory(directory, intermediate: true) }
        }
    }

    /// Everything below a tenant's `results/` owned by the daemon, folders 0755 and files 0644
    /// (links and other entries are removed: the daemon never makes them). Returns how many
    /// entries changed.
    static func repairResults(_ directory: String, owner: UnixUser) throws -> Int {
        var changed = 0
        for name in (try? FileSystem.listDirectory(directory)) ?? [] {
            let path = directory + "/" + name
            guard let status = try? FileStatus.ofLink(path) else { continue }
            let mode: UInt32
            switch status.kind {
            case .directory:
                mode = 0o755
                changed += try repairResults(path, owner: owner)
            case .regular:
                mode = 0o644
            default:
                try? FileSystem.unlink(path)
                changed += 1
                continue
            }
            if status.userID != owner.uid || status.groupID != owner.gid || status.permissions != mode {
                try FileSystem.setOwner(path, uid: owner.uid, gid: owner.gid)
                try FileSystem.setPermissions(path, mode)
                changed += 1
            }
        }
        return changed
    }

    /// What keeps sshd from using `path` as a chroot: it and every folder above it must be
    /// root's and not writable by group or others.
    static func chrootProblems(_ path: String) -> [String] {
        var problems: [String] = []
        var current = path
        while true {
            if let status = try? FileStatus.of(current), status.userID != 0 || status.mode & 0o022 != 0 {
                problems.append("\(current) is not root-owned or is writable by group or others: sshd will refuse it (or a folder below it) as a chroot")
            }
            let parent = FileSystem.parentDirectory(of: current)
            if parent == current || parent == "." { break }
            current = parent
        }
        return problems
    }

    private static func makeDirectory(_ path: String, undo: inout UndoList) throws {
        if FileSystem.exists(path) {
            guard (try? FileStatus.ofLink(path))?.kind == .directory else { throw CLIError("\(path) exists and is not a folder") }
            return
        }
        // Parents first, each remembered, so an undo removes exactly what this command made.
        let parent = FileSystem.parentDirectory(of: path)
        if parent != path, !FileSystem.exists(parent) { try makeDirectory(parent, undo: &undo) }
        do { try FileSystem.makeDirectory(path) } catch {
            let hint = ProcessCredentials.isRoot || ![.permissionDenied, .notPermitted].contains(error.errno)
                ? "" : " (on a deployed spool, run it as root)"
            throw CLIError("cannot create \(path): \(error)\(hint)")
        }
        undo.add { try? FileSystem.removeDirectory(path) }
    }

    private static func writeTemplate(_ path: String, undo: inout UndoList) throws {
        if FileSystem.exists(path) { return }
        do {
            try AtomicFile.write(OperatorCommands.templateBytes, to: path,
                                 temporaryDirectory: FileSystem.parentDirectory(of: path), permissions: 0o644)
        } catch {
            throw CLIError("cannot write \(path): \(error)")
        }
        undo.add { try? FileSystem.unlink(path) }
    }
}
