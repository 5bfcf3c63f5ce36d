import MassivaDomain
import MassivaStore
import MassivaSystem

/// Step 2 of the intake: each claimed entry becomes one request (queued, or rejected with its
/// reason), committed in transactions synced to disk before any claimed file is removed. The
/// claim name is unique in the database, so a crash between the commit and the removal is
/// finished by the next look at the folder, never recorded twice.
struct ClaimRecorder {
    let folder: ClaimFolder
    let store: StateStore
    let maxFileSize: Int
    let maxRows: Int
    /// The most bytes of uploads held in memory and committed in one transaction (one upload
    /// larger than this, up to `max_file_size`, goes alone).
    let batchBytes: Int
    /// `duplicate_upload_window`: re-uploads within it are rejected (`DuplicateUploads`).
    var duplicateWindow: Double = 0

    var log: EventLog { folder.log }

    /// stato.json's note for an upload taken after it looked cut short (`UploadCompletion`):
    /// what happened, and what the SI should do.
    static let cutShortNote = "caricamento apparentemente interrotto: il file non terminava con un a capo e non è stato "
        + "ripreso né sostituito entro il tempo di attesa, quindi è stato lavorato così com'era. Se il file era incompleto, "
        + "caricate di nuovo le righe mancanti in un nuovo file; se era completo, terminate l'ultima riga con un a capo "
        + "per evitare l'attesa."

    var tenant: String { folder.tenant }

    /// Records `claims`, in order. Returns the requests made.
    func record(_ claims: [ClaimName], now: Double) throws -> [RequestID] {
        var pending: [ClaimedUpload] = []
        var pendingBytes = 0
        var ids: [RequestID] = []
        let enabled = try store.tenant(tenant)?.enabled ?? false
        // Read once for the whole scan, not per upload: which claims were recorded before a
        // crash, and who owns the uploads (a tenant's files are mostly one account's). Per upload
        // they were two of an upload's five round trips on PostgreSQL.
        let recorded = try store.requestIDs(claimNames: claims.map(\.rawValue))
        var configurators: [UInt32: ConfiguratorIdentity] = [:]
        func configurator(_ uid: UInt32) throws -> ConfiguratorIdentity {
            if let known = configurators[uid] { return known }
            let found = try store.configurator(ofOwner: uid, tenant: tenant)
            configurators[uid] = found
            return found
        }
        for claim in claims {
            if let id = recorded[claim.rawValue] {
                // Recorded before a crash: only the clean-up was left. An entry recorded without
                // its bytes was refused unread: it goes aside, not away.
                folder.finish(claim, refused: try store.content(of: id) == nil, now: now)
                continue
            }
            guard let claimed = try ClaimedUpload.read(claim, in: folder, configurator: configurator, tenantEnabled: enabled,
                                                       maxFileSize: maxFileSize, maxRows: maxRows) else { continue }
            // Memory bounded by bytes as well as by count: 256 claimed uploads of 1 MB each
            // were once held together (338 MB). The transaction is committed once the uploads
            // read reach `batchBytes`, then the next ones are read.
            if !pending.isEmpty && pendingBytes + (claimed.content?.count ?? 0) > batchBytes {
                ids += try commit(pending, now: now)
                pending.removeAll()
                pendingBytes = 0
            }
            pendingBytes += claimed.content?.count ?? 0
            pending.append(claimed)
        }
        if !pending.isEmpty { ids += try commit(pending, now: now) }
        return ids
    }

    /// Commits `pending` as requests in one transaction synced to disk, then removes their claims.
    /// A re-upload is recognised inside that transaction (`DuplicateUploads`).
    private func commit(_ pending: [ClaimedUpload], now: Double) throws -> [RequestID] {
        let duplicates = DuplicateUploads(store: store, window: duplicateWindow)
        let recorded = try store.durably {
            try store.transaction {
                try pending.map { c -> (RequestID, FileRejection?) in
                    let duplicate = try duplicates.check(c, tenant: tenant, now: now)
                    let rejection = duplicate?.rejection ?? c.rejection
                    let id = try store.createRequest(tenant: tenant, fileName: c.fileName, configurator: c.configurator.name,
                                                     configuratorPerson: c.configurator.person, claimName: c.claim.rawValue,
                                                     content: c.content, rejection: rejection,
                                                     rowsTotal: c.rowsTotal, now: now, droppedAt: c.droppedAt,
                                                     contentDigest: c.digest, duplicateOf: duplicate?.earlier)
                    // In the same transaction: stato.json's note tells the SI from the first version.
                    if c.claim.looksCutShort { try store.setNote(id, Self.cutShortNote) }
                    return (id, rejection)
                }
            }
        }
        for ((id, rejection), c) in zip(recorded, pending) {
            if let rejection {
                log.log("rejected", ["id": id.description, "tenant": tenant, "file": c.fileName, "reason": rejection.reason])
            } else {
                log.log("accepted", ["id": id.description, "tenant": tenant, "file": c.fileName,
                                     "bytes": String(c.content?.count ?? 0), "configurator": c.configurator.name])
                if c.claim.looksCutShort {
                    log.log("accepted_cut_short", ["id": id.description, "tenant": tenant, "file": c.fileName])
                }
            }
            folder.finish(c.claim, refused: c.isRefusedUnread, now: now)
        }
        return recorded.map(\.0)
    }
}
