import MassivaSpool
import MassivaStore
import MassivaSystem

extension Engine {
    /// What one look at every tenant's `incoming/` did.
    struct UploadScan {
        var recorded = 0
        var nextSettleAt: Double?
    }

    /// Claims and records the settled uploads of every tenant, at most `active_queue_limit` per
    /// tenant and never past its `tenant_queue_limit` of queued requests.
    ///
    /// An upload beyond the limit is not lost and not refused: it stays in `incoming/`, where
    /// the SI left it, and is claimed (oldest name first) as soon as the tenant's queue is
    /// below its limit again. Meanwhile the SI finds `results/CODA-PIENA.txt` (`QueueNotice`)
    /// saying why, removed once nothing waits for room.
    func scanUploads() throws -> UploadScan {
        var scan = UploadScan()
        let queued = try store.queuedRequestsByTenant()
        let limit = configuration.tenantQueueLimit
        for tenant in try store.tenants() {
            let waiting = queued[tenant.id] ?? 0
            let room = max(0, limit - waiting)
            let result = try intake.scan(tenant: tenant, now: clock(), limit: min(chunkSize, room))
            scan.recorded += result.recorded.count
            if let at = result.nextSettleAt { scan.nextSettleAt = min(scan.nextSettleAt ?? at, at) }
            // Held back by the queue's limit, not by the scan's chunk.
            let full = result.heldBack > 0 && room <= chunkSize
            queueNotice.update(tenant: tenant.id, full: full, queued: waiting + result.recorded.count, limit: limit,
                               heldBack: result.heldBack, now: clock())
        }
        return scan
    }
}

/// `results/CODA-PIENA.txt`: what an SI whose queue is at `tenant_queue_limit` is told, in
/// Italian, while its uploads wait in `incoming/`. Written atomically when the queue fills (and
/// again when the count of waiting files changes), removed when nothing waits for room any more.
/// Advisory: a failure to write or remove it is logged once and never stops the engine.
final class QueueNotice {
    static let fileName = "CODA-PIENA.txt"
    let layout: SpoolLayout
    let log: EventLog
    /// Per tenant, the waiting count the notice shows; a tenant absent has none (as far as
    /// this process knows: at its first look it removes one a previous process left).
    private var shown: [String: Int] = [:]
    private var looked: Set<String> = []

    init(layout: SpoolLayout, log: EventLog) {
        self.layout = layout
        self.log = log
    }

    func path(_ tenant: String) -> String { layout.results(tenant) + "/" + Self.fileName }

    static func text(queued: Int, limit: Int, heldBack: Int, now: Double) -> String {
        """
        Coda piena: avete \(queued) richieste in attesa di lavorazione, il massimo consentito è \(limit).
        \(heldBack == 1 ? "Un file caricato resta" : "\(heldBack) file caricati restano") nella cartella incoming/ e \
        \(heldBack == 1 ? "sarà preso" : "saranno presi") in carico automaticamente, nell'ordine dei nomi, appena la coda \
        scende sotto il limite.
        Non occorre caricarli di nuovo: non sono stati persi né rifiutati.
        Aggiornato: \(SystemClock.iso8601(now))

        """.replacingOccurrences(of: "\n", with: "\r\n")
    }

    func update(tenant: String, full: Bool, queued: Int, limit: Int, heldBack: Int, now: Double) {
        let first = looked.insert(tenant).inserted
        if full {
            guard shown[tenant] != heldBack else { return }
            do {
                try AtomicFile.write(Array(Self.text(queued: queued, limit: limit, heldBack: heldBack, now: now).utf8),
                                     to: path(tenant), temporaryDirectory: layout.temporaryDirectory, durable: false)
                if shown[tenant] == nil {
                    log.log("tenant_queue_full", ["tenant": tenant, "queued": String(queued), "limit": String(limit),
                                                  "waiting_uploads": String(heldBack)])
                }
                shown[tenant] = heldBack
            } catch {
                if shown[tenant] == nil { log.log("queue_notice_failed", ["tenant": tenant, "error": "\(error)"]) }
                shown[tenant] = -1  // logged once; written again when the count changes
            }
        } else if shown[tenant] != nil || first {
            // Never through a tenant folder that is a link (`TenantFolderCheck`).
            guard TenantFolderCheck.problem(layout, tenant: tenant) == nil else { return }
            do {
                try FileSystem.unlink(path(tenant))
                log.log("tenant_queue_open", ["tenant": tenant])
            } catch where error.errno == .noSuchFileOrDirectory {
            } catch {
                log.log("queue_notice_failed", ["tenant": tenant, "error": "\(error)"])
            }
            shown[tenant] = nil
        }
    }
}
