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
    /// Upload names already reported as not UTF-8.
    private var unnamable: Set<String> = []

    public init(layout: SpoolLayout, store: StateStore, settleTime: Double, maxFileSize: Int, maxRows: Int = .max, log: EventLog) {
        self.layout = layout
        self.store = store
        self.settleTime = settleTime
        self.maxFileSize = maxFileSize
        self.maxRows = maxRows
        self.log = log
    }

    /// Upload names that are not complete yet, or not uploads at all.
    public static func isIgnoredName(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".part") || name.hasSuffix(".tmp") || name.hasSuffix(".filepart")
    }

    /// What one scan of a tenant's folder did.
    public struct ScanResult: Sendable {
        public var recorded: [RequestID] = []
        /// Regular files seen but not settled yet: the earliest time one of them may be ready.
        public var nextSettleAt: Double?
    }

    /// Claims and records every complete file in `tenant`'s `incoming/`, at most `limit` of them.
    public func scan(tenant: Tenant, now: Double, limit: Int = .max) throws -> ScanResult {
        var result = ScanResult()
        let incoming = layout.incoming(tenant.id)
        let names: [String]
        do {
            names = try FileSystem.listDirectory(incoming).sorted()
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
        for name in names where !Self.isIgnoredName(name) {
            if claimed.count >= limit { break }
            let path = incoming + "/" + name
            guard let status = try? FileStatus.ofLink(path) else {
                // Vanished meanwhile, or a name that is not UTF-8: it cannot be named back to
                // the kernel from a Swift String. Say so once; it stays where it is.
                if name.unicodeScalars.contains("\u{FFFD}"), unnamable.insert(tenant.id + "/" + name).inserted {
                    log.log("refused", ["tenant": tenant.id, "file": name, "reason": "file name is not UTF-8: rename it"])
                }
                continue
            }
            if status.kind == .regular {
                let ready = status.modificationTime + settleTime
                if ready > now {
                    result.nextSettleAt = min(result.nextSettleAt ?? ready, ready)
                    continue
                }
                if name.hasSuffix(".cancel") {
                    handleCancel(tenant: tenant, name: name, path: path, now: now)
                    continue
                }
            }
            if status.kind != .regular {
                // An entry that could not be taken is answered where it is, once: the key names
                // it in the database until it goes away.
                if (try? store.requestID(claimName: Self.inPlaceKey(name: name, status: status))) ?? nil != nil { continue }
            }
            if let claimName = claim(tenant: tenant.id, name: name, from: path, inode: status.inode,
                                     answerInPlace: status.kind == .regular ? nil : status) {
                claimed.append(claimName)
            } else if status.kind != .regular, let id = try recordInPlace(tenant: tenant, name: name, path: path, status: status, now: now) {
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
        let names = (try? FileSystem.listDirectory(layout.claimDirectory(tenant))) ?? []
        return names.isEmpty ? [] : try record(tenant: tenant, claimNames: names.sorted(), now: now)
    }

    /// `<microseconds>-<inode>-<original name>`, so the original name survives a crash.
    /// A non-regular entry that cannot be moved (`answerInPlace`, e.g. a folder an SI made over
    /// SFTP: moving a folder to another parent needs write access to the folder itself) is not
    /// logged as a failure here: the caller answers it in place.
    func claim(tenant: String, name: String, from path: String, inode: UInt64, answerInPlace: FileStatus? = nil) -> String? {
        sequence += 1
        let prefix = "\(String(UInt64(SystemClock.now * 1_000_000), radix: 16))\(String(sequence, radix: 16))-\(String(inode, radix: 16))-"
        var shortName = name
        while (prefix + shortName).utf8.count > 250 { shortName.removeLast() }
        let claimName = prefix + shortName
        do {
            try FileSystem.rename(from: path, to: layout.claimDirectory(tenant) + "/" + claimName)
            return claimName
        } catch {
            if answerInPlace == nil || ![.permissionDenied, .notPermitted].contains(error.errno) {
                log.log("claim_failed", ["tenant": tenant, "file": name, "error": "\(error)"])
            }
            return nil
        }
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
    func recordInPlace(tenant: Tenant, name: String, path: String, status: FileStatus, now: Double) throws -> RequestID? {
        guard let current = try? FileStatus.ofLink(path), current.inode == status.inode, current.kind != .regular else { return nil }
        let key = Self.inPlaceKey(name: name, status: current)
        let who = try configurator(uid: current.userID, tenant: tenant.id)
        let rejection = FileRejection.notRegularFile(kind: current.kind.italianName)
        let id = try store.database.transaction {
            try store.createRequest(tenant: tenant.id, fileName: name, configurator: who.name,
                                    configuratorPerson: who.person, claimName: key,
                                    content: nil, rejection: rejection, now: now)
        }
        log.log("rejected", ["id": id.description, "tenant": tenant.id, "file": name, "reason": rejection.reason])
        if current.kind == .directory { try? FileSystem.removeDirectory(path) }
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
            pending.append(claimed)
        }
        if pending.isEmpty { return [] }
        let ids = try store.database.withFullSync {
            try store.database.transaction {
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
        var claimed = Claimed(claimName: claimName, fileName: Self.originalName(ofClaim: claimName),
                              configurator: try configurator(uid: status.userID, tenant: tenant), content: nil, rejection: nil,
                              regular: status.kind == .regular, droppedAt: status.modificationTime)
        if status.kind != .regular {
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
        if refused == true {
            try? FileSystem.rename(from: path, to: layout.refusedDirectory(tenant) + "/" + claimName)
        } else {
            try? FileSystem.unlink(path)
        }
    }

    /// `incoming/<REQ>.cancel`: cancel that request if still queued; consumed either way.
    func handleCancel(tenant: Tenant, name: String, path: String, now: Double) {
        let idText = String(name.dropLast(".cancel".count))
        defer { try? FileSystem.unlink(path) }
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
