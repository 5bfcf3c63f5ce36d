import MassivaDomain
import MassivaStore
import MassivaSystem

/// Takes complete uploads out of the tenants' `incoming/` folders and records them as requests.
///
/// Postfix's pickup, in two steps that each survive a crash:
/// 1. claim: an atomic `rename` from `incoming/<name>` into `private/claim/<tenant>/`, under a
///    `ClaimName` (`ClaimFolder`);
/// 2. record: read the claimed file (only if it is a regular file within `max_file_size`,
///    `ClaimedUpload`), commit a request holding its bytes, then remove the claimed file (or
///    move a refused entry to `private/refused/`) (`ClaimRecorder`). The claim name is unique
///    in the database, so a crash between the commit and the removal is finished by `recover`,
///    never recorded twice.
///
/// Besides uploads, `incoming/` holds `.cancel` files (`CancelFile`) and entries that cannot be
/// claimed, answered where they are (`InPlaceAnswer`).
public final class Intake {
    public let layout: SpoolLayout
    public let store: StateStore
    /// `settle_time`: where leases cannot tell whether an upload is still written, how long it
    /// must stay untouched (and the cap of the quiet time where they can: `UploadCompletion`).
    public var settleTime: Double {
        didSet { for tenant in completions.keys { completions[tenant]!.settleTime = settleTime } }
    }
    /// `resume_time`: how long an upload that looks cut short waits to be resumed.
    public var resumeTime: Double {
        didSet { for tenant in completions.keys { completions[tenant]!.resumeTime = resumeTime } }
    }
    public var maxFileSize: Int
    /// Only to count a file's data rows when it is recorded (`BulkFile.dataRowCount`).
    public var maxRows: Int
    public let log: EventLog
    /// The most bytes of uploads held in memory and committed in one transaction (one upload
    /// larger than this, up to `max_file_size`, goes alone).
    public var batchBytes = 8 * 1_048_576
    /// `duplicate_upload_window`: an upload with the name and bytes of one of the tenant's
    /// requests of this many seconds before is rejected as a re-upload (`DuplicateUploads`); 0: off.
    public var duplicateUploadWindow: Double = 86400
    /// Asked before each claim (a rename out of `incoming/`): false while this node does not
    /// lead the spool (`LeaderFence`), so a standby, or a leader whose lease lapsed, claims
    /// nothing. Its claims would be harmless (the database is the authority, and the leader
    /// records what it finds in the claim folders), but they would be late.
    public var mayClaim: () -> Bool = { true }
    /// Claims made by this intake: with the time, it makes claim names unique.
    private var sequence = 0
    /// Tenants whose incoming folder could not be read at the last look.
    private var unreadable: Set<String> = []
    /// Tenants whose folders are links (`TenantFolderCheck`), refused at the last look.
    private var refusedTenants: Set<String> = []
    /// Where each tenant's uploads stand (`UploadCompletion`).
    private var completions: [String: UploadCompletion] = [:]
    /// How this spool tells that an upload is no longer written, found at the first look
    /// (`WriteLease.unavailability` in `private/tmp/`), and changed to `.settleTime` for good
    /// if a lease on an upload fails otherwise than with a writer (no `CAP_LEASE`).
    private var mode: UploadCompletion.Mode?

    public init(layout: SpoolLayout, store: StateStore, settleTime: Double, resumeTime: Double = 900, maxFileSize: Int,
                maxRows: Int = .max, log: EventLog) {
        self.layout = layout
        self.store = store
        self.settleTime = settleTime
        self.resumeTime = resumeTime
        self.maxFileSize = maxFileSize
        self.maxRows = maxRows
        self.log = log
    }

    /// How this spool tells that an upload is no longer written: found at the first call (the
    /// daemon logs it at start), `.settleTime` once a lease on an upload has failed.
    public var completionMode: UploadCompletion.Mode {
        if let mode { return mode }
        let found: UploadCompletion.Mode
        if let problem = WriteLease.unavailability(in: layout.temporaryDirectory) {
            found = .settleTime(reason: "\(problem)")
        } else {
            found = .lease
        }
        mode = found
        return found
    }

    /// inotify said `name` in `tenant`'s `incoming/` changed (closed after writing, attributes
    /// set, renamed in) at `time`: its quiet time starts again.
    public func noteChange(tenant: String, name: RawFileName, at time: Double) {
        completions[tenant, default: makeCompletion()].noteChange(name, at: time)
    }

    /// Where an upload stands after the last look (tests, `status`).
    public func uploadState(tenant: String, name: String) -> UploadCompletion.State? {
        completions[tenant]?.state(of: RawFileName(name))
    }

    private func makeCompletion() -> UploadCompletion {
        UploadCompletion(mode: completionMode, settleTime: settleTime, resumeTime: resumeTime)
    }

    /// A lease on an upload failed otherwise than with a writer: the whole spool goes by the
    /// settle time from now on (logged once, with the cure).
    private func leasesFailed(_ error: SystemError, tenant: String) {
        guard mode == .lease else { return }
        let reason = "\(error)"
        mode = .settleTime(reason: reason)
        for id in completions.keys { completions[id]!.mode = .settleTime(reason: reason) }
        log.log("upload_completion", ["mode": "settle_time", "settle_time": "\(settleTime)s", "reason": reason,
                                      "tenant": tenant,
                                      "hint": error.errno == .permissionDenied
                                        ? "the daemon needs CAP_LEASE to lease the SIs' files (massiva.service)" : "no leases here"])
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
        guard mayClaim() else { return result }
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
        let inPlace = InPlaceAnswer(layout: layout, store: store, log: log)
        var claimed: [ClaimName] = []
        var completion = completions[tenant.id] ?? makeCompletion()
        defer {
            completion.keepOnly(Set(entries))
            completions[tenant.id] = completion
        }
        for entry in entries {
            // The name people see; the entry itself is always reached by its bytes.
            let name = entry.displayName
            if Self.isIgnoredName(name) { continue }
            guard let status = try? FileStatus.ofLink(entry, in: incoming) else { continue }  // vanished meanwhile
            var look: IncomingLook?
            var cutShort = false
            if status.kind == .regular {
                let isCancel = CancelFile.isCancel(entry)
                guard let looked = IncomingLook.look(entry, in: incoming, linkStatus: status, askLease: completion.mode == .lease,
                                                     checkEnding: !isCancel) else { continue }
                if let problem = looked.leaseUnavailable {
                    leasesFailed(problem, tenant: tenant.id)
                    completion.mode = mode ?? completion.mode
                }
                let before = completion.state(of: entry)
                let state = completion.observe(entry, looked.observation, now: now)
                logTransition(tenant: tenant.id, name: name, from: before, to: state, size: looked.observation.size)
                guard case .complete(let cut) = state else {
                    looked.close()
                    if let at = state.wakeAt { result.nextSettleAt = min(result.nextSettleAt ?? at, at) }
                    continue
                }
                if isCancel {
                    looked.close()
                    completion.forget(entry)
                    CancelFile(layout: layout, store: store, log: log).handle(tenant: tenant, entry: entry, now: now)
                    continue
                }
                look = looked
                cutShort = cut
            } else if inPlace.isAnswered(name: name, status: status) {
                continue
            }
            // Past the limit an entry stays where it is, for a later scan; a cancellation (above)
            // still goes through: it is how an SI makes room.
            if claimed.count >= limit {
                look?.close()
                result.heldBack += 1
                continue
            }
            // Claimed while the look's lease is held: no writer can open the file in between.
            let made = claim(tenant: tenant.id, entry: entry, inode: status.inode, now: now,
                             answerInPlace: status.kind != .regular, cutShort: cutShort)
            look?.close()
            if let made {
                completion.forget(entry)
                claimed.append(made)
            } else if status.kind != .regular, let id = try inPlace.record(tenant: tenant, entry: entry, status: status, now: now) {
                result.recorded.append(id)
            }
        }
        result.recorded += try recorder(tenant: tenant.id).record(claimed, now: now)
        return result
    }

    /// Logs what an operator needs to follow an upload: cut short (and how long it may be
    /// resumed), resumed, taken after waiting in vain.
    private func logTransition(tenant: String, name: String, from: UploadCompletion.State?, to: UploadCompletion.State, size: Int64) {
        switch (from, to) {
        case (.cutShort, .cutShort), (.cutShort, .complete(cutShort: true)):
            return
        case (_, .cutShort(let until)):
            log.log("upload_cut_short", ["tenant": tenant, "file": name, "bytes": String(size),
                                         "waiting_until": SystemClock.iso8601(until)])
        case (.cutShort, _):
            log.log("upload_resumed", ["tenant": tenant, "file": name, "bytes": String(size)])
        default:
            return
        }
    }

    /// Records every claimed file left behind by a crash.
    public func recover(tenants: [Tenant], now: Double) throws -> [RequestID] {
        try tenants.flatMap { try recordLeftovers(tenant: $0.id, now: now) }
    }

    /// Records what is still in a tenant's claim folder: what a crash or a failed pass left.
    func recordLeftovers(tenant: String, now: Double) throws -> [RequestID] {
        let claims = folder(tenant).leftovers()
        return claims.isEmpty ? [] : try recorder(tenant: tenant).record(claims, now: now)
    }

    /// Step 1: `entry` claimed at `now`. A name that is not UTF-8 is claimed by its bytes under
    /// its display name (`ClaimName.isNotUTF8`): it becomes a request rejected for its name,
    /// never one that stays in `incoming/` for ever. A non-regular entry that cannot be moved
    /// (`answerInPlace`) is not logged as a failure here: the caller answers it in place.
    func claim(tenant: String, entry: RawFileName, inode: UInt64, now: Double, answerInPlace: Bool = false,
               cutShort: Bool = false) -> ClaimName? {
        guard mayClaim() else { return nil }
        sequence += 1
        let claim = ClaimName(now: now, sequence: sequence, inode: inode, name: entry.displayName, nameIsUTF8: entry.isUTF8,
                              cutShort: cutShort)
        do {
            try folder(tenant).take(entry, as: claim, inode: inode)
            return claim
        } catch {
            if !answerInPlace || ![.permissionDenied, .notPermitted].contains(error.errno) {
                log.log("claim_failed", ["tenant": tenant, "file": entry.displayName, "error": "\(error)"])
            }
            return nil
        }
    }

    private func folder(_ tenant: String) -> ClaimFolder {
        ClaimFolder(layout: layout, tenant: tenant, log: log)
    }

    private func recorder(tenant: String) -> ClaimRecorder {
        ClaimRecorder(folder: folder(tenant), store: store, maxFileSize: maxFileSize, maxRows: maxRows, batchBytes: batchBytes,
                      duplicateWindow: duplicateUploadWindow)
    }
}
