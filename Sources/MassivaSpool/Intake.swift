import MassivaDomain
import MassivaStore
import MassivaSystem

/// Takes complete uploads out of the tenants' `incoming/` folders and records them as requests.
///
/// Postfix's pickup, in two steps that each survive a crash:
/// 1. claim: an atomic `rename` from `incoming/<name>` into `private/claim/<tenant>/`;
/// 2. record: read the claimed file (only if it is a regular file within `max_file_size`),
///    commit a request holding its bytes, then remove the claimed file (or move a refused entry
///    to `private/refused/`). The claim name is unique in the database, so a crash between the
///    commit and the removal is finished by `recover`, never recorded twice.
public final class Intake {
    public let layout: SpoolLayout
    public let store: StateStore
    public var settleTime: Double
    public var maxFileSize: Int
    /// Only to count a file's data rows when it is recorded (`BulkFile.dataRowCount`).
    public var maxRows: Int
    public let log: EventLog
    private var sequence = 0
    /// Tenants whose incoming folder could not be read at the last look.
    private var unreadable: Set<String> = []
    /// Tenants whose folders are links (`TenantFolderCheck`), refused at the last look.
    private var refusedTenants: Set<String> = []

    public init(layout: SpoolLayout, store: StateStore, settleTime: Double, maxFileSize: Int, maxRows: Int = .max, log: EventLog) {
        self.layout = layout
        self.store = store
        self.settleTime = settleTime
        self.maxFileSize = maxFileSize
        self.maxRows = maxRows
        self.log = log
    }

    /// Upload names that are not complete yet, or not uploads at all.
    /// The suffixes are matched in any ASCII case (`.PART` is what some Windows clients write).
    public static func isIgnoredName(_ name: String) -> Bool {
        if name.hasPrefix(".") { return true }
        let lower = String(decoding: name.utf8.suffix(9).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
        return lower.hasSuffix(".part") || lower.hasSuffix(".tmp") || lower.hasSuffix(".filepart")
    }

    /// What one scan of a tenant's folder did.
    public struct ScanResult: Sendable {
        public var recorded: [RequestID] = []
        /// Regular files seen but not settled yet: the earliest time one of them may be ready.
        public var nextSettleAt: Double?
        /// Settled uploads left in `incoming/` because `limit` was reached (`tenant_queue_limit`).
        public var heldBack = 0
    }

    /// Claims and records every complete file in `tenant`'s `incoming/`, at most `limit` of them.
    public func scan(tenant: Tenant, now: Double, limit: Int = .max) throws -> ScanResult {
        var result = ScanResult()
        let incoming = layout.incoming(tenant.id)
        if let problem = TenantFolderCheck.problem(layout, tenant: tenant.id) {
            // Logged once, until the folders are right again.
            if refusedTenants.insert(tenant.id).inserted {
                log.log("tenant_folder_refused", ["tenant": tenant.id, "reason": problem])
            }
            return result
        }
        if refusedTenants.remove(tenant.id) != nil { log.log("tenant_folder_accepted", ["tenant": tenant.id]) }
        let entries: [RawFileName]
        do {
            // Names as bytes: a name that is not UTF-8 is still an upload to answer.
            entries = try FileSystem.listDirectoryNames(incoming).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            if unreadable.remove(tenant.id) != nil { log.log("tenant_readable", ["tenant": tenant.id, "path": incoming]) }
        } catch {
            // Logged once, not at every pass, until the folder is back.
            if unreadable.insert(tenant.id).inserted {
                log.log("tenant_unreadable", ["tenant": tenant.id, "path": incoming, "error": "\(error)"])
            }
            return result
        }
        // Claims a failed pass left behind (the database was busy, the disk full): record them
        // now rather than at the next start-up.
        result.recorded += try recordLeftovers(tenant: tenant.id, now: now)
        var claimed: [String] = []
        for entry in entries {
            // The name people see; the entry itself is always reached by its bytes.
            let name = entry.displayName
            if Self.isIgnoredName(name) { continue }
            guard let status = try? FileStatus.ofLink(entry, in: incoming) else { continue }  // vanished meanwhile
            if status.kind == .regular {
                let ready = status.modificationTime + settleTime
                if ready > now {
                    result.nextSettleAt = min(result.nextSettleAt ?? ready, ready)
                    continue
                }
                if entry.isUTF8, name.hasSuffix(".cancel") {
                    handleCancel(tenant: tenant, name: name, entry: entry, now: now)
                    continue
                }
            }
            // Past the limit an entry stays where it is, for a later scan; a cancellation (above)
            // still goes through: it is how an SI makes room.
            if claimed.count >= limit {
                result.heldBack += 1
                continue
            }
            if status.kind != .regular {
                // An entry that could not be taken is answered where it is, once: the key names
                // it in the database until it goes away.
                if (try? store.requestID(claimName: Self.inPlaceKey(name: name, status: status))) ?? nil != nil { continue }
            }
            if let claimName = claim(tenant: tenant.id, entry: entry, inode: status.inode,
                                     answerInPlace: status.kind == .regular ? nil : status) {
                claimed.append(claimName)
            } else if status.kind != .regular, let id = try recordInPlace(tenant: tenant, entry: entry, status: status, now: now) {
                result.recorded.append(id)
            }
        }
        result.recorded += try record(tenant: tenant.id, claimNames: claimed, now: now)
        return result
    }

    /// Records every claimed file left behind by a crash.
    public func recover(tenants: [Tenant], now: Double) throws -> [RequestID] {
        try tenants.flatMap { try recordLeftovers(tenant: $0.id, now: now) }
    }

    /// Records what is still in a tenant's claim folder: what a crash or a failed pass left.
    func recordLeftovers(tenant: String, now: Double) throws -> [RequestID] {
        let all = (try? FileSystem.listDirectory(layout.claimDirectory(tenant))) ?? []
        let names = all.filter { !$0.hasPrefix(".") }
        // A sidecar whose claim is gone (a crash between the two): nothing will read it.
        let prefixes = Set(names.compactMap(Self.claimPrefix))
        for sidecar in all where sidecar.hasPrefix(".") && sidecar.hasSuffix("-name") {
            if !prefixes.contains(String(sidecar.dropFirst().dropLast(4))) {
                try? FileSystem.unlink(layout.claimDirectory(tenant) + "/" + sidecar)
            }
        }
        return names.isEmpty ? [] : try record(tenant: tenant, claimNames: names.sorted(), now: now)
    }

    /// `<microseconds><sequence>-<inode>-<original name>`, so the original name survives a crash.
    /// A name that is not UTF-8 is claimed by its bytes under its display name, its inode part
    /// marked with `notUTF8Marker`: it becomes a request rejected for its name, never one that
    /// stays in `incoming/` for ever.
    /// A non-regular entry that cannot be moved (`answerInPlace`, e.g. a folder an SI made over
    /// SFTP: moving a folder to another parent needs write access to the folder itself) is not
    /// logged as a failure here: the caller answers it in place.
    func claim(tenant: String, entry: RawFileName, inode: UInt64, answerInPlace: FileStatus? = nil) -> String? {
        sequence += 1
        let marker = entry.isUTF8 ? "" : Self.notUTF8Marker
        let prefix = "\(String(UInt64(SystemClock.now * 1_000_000), radix: 16))\(String(sequence, radix: 16))-\(String(inode, radix: 16))\(marker)-"
        var shortName = entry.displayName
        while (prefix + shortName).utf8.count > 250 { shortName.removeLast() }
        let claimName = prefix + shortName
        if shortName != entry.displayName {
            // A name too long to follow the prefix (NOME FILE once showed it cut): the whole
            // name goes into a sidecar first, read back when the claim is recorded.
            writeSidecar(tenant: tenant, prefix: prefix, name: entry.displayName)
        }
        do {
            try FileSystem.rename(entry, in: layout.incoming(tenant), to: layout.claimDirectory(tenant) + "/" + claimName)
            return claimName
        } catch {
            if answerInPlace == nil || ![.permissionDenied, .notPermitted].contains(error.errno) {
                log.log("claim_failed", ["tenant": tenant, "file": entry.displayName, "error": "\(error)"])
            }
            return nil
        }
    }

    /// `.<prefix>name` beside the claims: the whole display name of an upload whose claim name
    /// had to be shortened. A dot-name, so it is never taken for a claim.
    func sidecarPath(tenant: String, prefix: String) -> String {
        layout.claimDirectory(tenant) + "/." + prefix + "name"
    }

    /// Only a shortened claim name has a sidecar: it was cut to at most 250 bytes, losing at
    /// most one character (4 bytes) too many. Shorter ones cost no look for one.
    static func mayHaveSidecar(_ claimName: String) -> Bool { claimName.utf8.count > 245 }

    /// The prefix of a claim name: everything up to its second `-`, included.
    static func claimPrefix(_ claimName: String) -> String? {
        let parts = claimName.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? parts[0] + "-" + parts[1] + "-" : nil
    }

    func writeSidecar(tenant: String, prefix: String, name: String) {
        let path = sidecarPath(tenant: tenant, prefix: prefix)
        do {
            let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .noFollow, .closeOnExec], permissions: 0o600)
            try fd.closeAfter { try $0.writeAll(name.utf8) }
        } catch {
            // Only the shown name suffers: the claim keeps its shortened one.
            log.log("claim_name_unsaved", ["tenant": tenant, "file": name, "error": "\(error)"])
        }
    }

    /// The whole name a claim was made for: its sidecar's, else the one in the claim name.
    func fileName(tenant: String, claimName: String) -> String {
        if Self.mayHaveSidecar(claimName), let prefix = Self.claimPrefix(claimName),
           let bytes = try? RegularFile.read(sidecarPath(tenant: tenant, prefix: prefix), limit: 4096, followSymlinks: false),
           let name = String(validating: bytes, as: UTF8.self), !name.isEmpty {
            return name
        }
        return Self.originalName(ofClaim: claimName)
    }

    /// Ends the inode part of a claim name whose upload's name is not UTF-8 (not a hex digit).
    static let notUTF8Marker = "n"

    /// Whether a claim name is that of an upload whose name was not UTF-8.
    static func isNotUTF8Claim(_ claimName: String) -> Bool {
        let parts = claimName.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && parts[1].hasSuffix(notUTF8Marker)
    }

    /// The database key of an entry answered in place: its inode and name.
    static func inPlaceKey(name: String, status: FileStatus) -> String {
        var key = "inplace-\(String(status.device, radix: 16))-\(String(status.inode, radix: 16))-" + name
        while key.utf8.count > 250 { key.removeLast() }
        return key
    }

    /// Answers an entry that cannot be taken out of `incoming/` with one rejected request, and
    /// removes it when it can (an empty folder: the daemon owns `incoming/`). Returns its id,
    /// or nil when the entry was gone or could not be moved for another reason.
    func recordInPlace(tenant: Tenant, entry: RawFileName, status: FileStatus, now: Double) throws -> RequestID? {
        let incoming = layout.incoming(tenant.id)
        guard let current = try? FileStatus.ofLink(entry, in: incoming), current.inode == status.inode, current.kind != .regular else { return nil }
        let name = entry.displayName
        let key = Self.inPlaceKey(name: name, status: current)
        let who = try configurator(uid: current.userID, tenant: tenant.id)
        let rejection = entry.isUTF8 ? FileRejection.notRegularFile(kind: current.kind.italianName) : FileRejection.nameNotUTF8
        let id = try store.transaction {
            try store.createRequest(tenant: tenant.id, fileName: name, configurator: who.name,
                                    configuratorPerson: who.person, claimName: key,
                                    content: nil, rejection: rejection, now: now)
        }
        log.log("rejected", ["id": id.description, "tenant": tenant.id, "file": name, "reason": rejection.reason])
        if current.kind == .directory { try? FileSystem.removeDirectory(entry, in: incoming) }
        return id
    }

    /// CONFIGURATORE of an upload: the person of the SI account that owns it, else its login.
    func configurator(uid: UInt32, tenant: String) throws -> ConfiguratorIdentity {
        try store.configurator(login: UserName.of(uid: uid), tenant: tenant)
    }

    static func originalName(ofClaim claimName: String) -> String {
        let parts = claimName.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : claimName
    }

    /// A claimed entry, read (or refused unread), ready to be recorded.
    struct Claimed {
        var claimName: String
        var fileName: String
        var configurator: ConfiguratorIdentity
        var content: [UInt8]?
        var rejection: FileRejection?
        var regular: Bool
        /// Its data rows, counted before the recording transaction (which stays short).
        var rowsTotal = 0
        /// Its modification time: when the SI finished the upload (the metrics' latency starts).
        var droppedAt: Double? = nil
    }

    /// Step 2: each claimed entry becomes one request (queued, or rejected with its reason), all
    /// of them in one transaction synced to disk before any claimed file is removed.
    func record(tenant: String, claimNames: [String], now: Double) throws -> [RequestID] {
        var pending: [Claimed] = []
        var pendingBytes = 0
        var ids: [RequestID] = []
        let enabled = try store.tenant(tenant)?.enabled ?? false
        for claimName in claimNames {
            let path = layout.claimDirectory(tenant) + "/" + claimName
            if let id = try store.requestID(claimName: claimName) {
                // Recorded before a crash: only the clean-up was left. An entry recorded without
                // its bytes was refused unread: it goes aside, not away.
                finish(path: path, tenant: tenant, claimName: claimName, refused: try store.content(of: id) == nil)
                continue
            }
            guard let claimed = try read(path: path, claimName: claimName, tenant: tenant, tenantEnabled: enabled) else { continue }
            // Memory bounded by bytes as well as by count: 256 claimed uploads of 1 MB each
            // were once held together (338 MB). The transaction is committed once the uploads
            // read reach `batchBytes`, then the next ones are read.
            if !pending.isEmpty && pendingBytes + (claimed.content?.count ?? 0) > batchBytes {
                ids += try commit(tenant: tenant, pending, now: now)
                pending.removeAll()
                pendingBytes = 0
            }
            pendingBytes += claimed.content?.count ?? 0
            pending.append(claimed)
        }
        if !pending.isEmpty { ids += try commit(tenant: tenant, pending, now: now) }
        return ids
    }

    /// The most bytes of uploads held in memory and committed in one transaction (one upload
    /// larger than this, up to `max_file_size`, goes alone).
    public var batchBytes = 8 * 1_048_576

    /// Commits `pending` as requests in one transaction synced to disk, then removes their claims.
    private func commit(tenant: String, _ pending: [Claimed], now: Double) throws -> [RequestID] {
        let ids = try store.durably {
            try store.transaction {
                try pending.map { c in
                    try store.createRequest(tenant: tenant, fileName: c.fileName, configurator: c.configurator.name,
                                            configuratorPerson: c.configurator.person, claimName: c.claimName,
                                            content: c.content, rejection: c.rejection,
                                            rowsTotal: c.rowsTotal, now: now, droppedAt: c.droppedAt)
                }
            }
        }
        for (id, c) in zip(ids, pending) {
            if let rejection = c.rejection {
                log.log("rejected", ["id": id.description, "tenant": tenant, "file": c.fileName, "reason": rejection.reason])
            } else {
                log.log("accepted", ["id": id.description, "tenant": tenant, "file": c.fileName,
                                     "bytes": String(c.content?.count ?? 0), "configurator": c.configurator.name])
            }
            finish(path: layout.claimDirectory(tenant) + "/" + c.claimName, tenant: tenant, claimName: c.claimName,
                   refused: !c.regular || c.content == nil)
        }
        return ids
    }

    /// Reads one claimed entry, only if it is a regular file within `max_file_size`.
    func read(path: String, claimName: String, tenant: String, tenantEnabled: Bool) throws -> Claimed? {
        guard let status = try? FileStatus.ofLink(path) else { return nil }
        var claimed = Claimed(claimName: claimName, fileName: fileName(tenant: tenant, claimName: claimName),
                              configurator: try configurator(uid: status.userID, tenant: tenant), content: nil, rejection: nil,
                              regular: status.kind == .regular, droppedAt: status.modificationTime)
        if Self.isNotUTF8Claim(claimName) {
            // Refused unread, kept aside: the SI sees the request under the name's display form.
            claimed.rejection = .nameNotUTF8
            claimed.regular = false
        } else if status.kind != .regular {
            claimed.rejection = .notRegularFile(kind: status.kind.italianName)
        } else if status.size > maxFileSize {
            claimed.rejection = .tooLarge(size: Int(status.size), limit: maxFileSize)
        } else {
            do {
                let fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .nonBlocking, .closeOnExec])
                defer { try? fd.close() }
                let opened = try fd.status()
                if opened.kind != .regular {
                    claimed.rejection = .notRegularFile(kind: opened.kind.italianName)
                } else {
                    let (bytes, truncated) = try fd.read(upTo: maxFileSize)
                    if truncated {
                        // It grew past the limit after the check: refused, and kept whole aside.
                        claimed.rejection = .tooLarge(size: Int(opened.size), limit: maxFileSize)
                    } else {
                        claimed.content = bytes
                    }
                }
            } catch {
                // The error's text holds a server path: the SI is told only why.
                let errno = error.errno
                claimed.rejection = .unreadable(detail: errno == .permissionDenied || errno == .notPermitted
                                                ? "permessi insufficienti" : "errore di lettura")
                log.log("unreadable", ["tenant": tenant, "file": claimed.fileName, "error": "\(error)"])
            }
        }
        if claimed.rejection == nil && !tenantEnabled { claimed.rejection = .tenantDisabled }
        if claimed.rejection == nil, let content = claimed.content {
            claimed.rowsTotal = BulkFile.dataRowCount(content, maxRows: maxRows)
        }
        return claimed
    }

    /// Removes a recorded claim; an entry refused unread is kept aside for the operator instead.
    func finish(path: String, tenant: String, claimName: String, refused: Bool?) {
        if Self.mayHaveSidecar(claimName), let prefix = Self.claimPrefix(claimName) {
            try? FileSystem.unlink(sidecarPath(tenant: tenant, prefix: prefix))
        }
        if refused == true {
            try? FileSystem.rename(from: path, to: layout.refusedDirectory(tenant) + "/" + claimName)
        } else {
            try? FileSystem.unlink(path)
        }
    }

    /// `incoming/<REQ>.cancel`: cancel that request if still queued; consumed either way.
    func handleCancel(tenant: Tenant, name: String, entry: RawFileName, now: Double) {
        let idText = String(name.dropLast(".cancel".count))
        defer { try? FileSystem.unlink(entry, in: layout.incoming(tenant.id)) }
        guard let id = RequestID(parsing: idText) else {
            log.log("cancel_refused", ["tenant": tenant.id, "file": name, "reason": "not a request id"])
            return
        }
        do {
            let result = try store.cancel(id, tenant: tenant.id, now: now)
            switch result {
            case .cancelled: log.log("cancelled", ["id": id.description, "tenant": tenant.id])
            case .notQueued(let status): log.log("cancel_refused", ["id": id.description, "tenant": tenant.id, "reason": "request is \(status.rawValue)"])
            case .notFound: log.log("cancel_refused", ["id": id.description, "tenant": tenant.id, "reason": "no such request for this tenant"])
            }
        } catch {
            log.log("cancel_failed", ["id": id.description, "tenant": tenant.id, "error": "\(error)"])
        }
    }
}

extension FileStatus.Kind {
    /// How the refusal reason names the kind of entry, in Italian.
    public var italianName: String {
        switch self {
        case .regular: return "file"
        case .directory: return "directory"
        case .symlink: return "collegamento simbolico"
        case .fifo: return "FIFO"
        case .characterDevice, .blockDevice: return "dispositivo"
        case .socket: return "socket"
        default: return "tipo sconosciuto"
        }
    }
}
