import Dispatch
import MassivaSpool
import MassivaStore
import MassivaSystem

/// Watches the spool with inotify: `tenants/` (a tenant folder appearing), every tenant's
/// `incoming/` (a file created, closed after writing, its attributes set, or renamed in: each also
/// a change seen for its upload's quiet time), and `private/` (the operator
/// commands' wakeup file). Any event just asks for a pass: the pass itself looks at the folders,
/// so a lost or coalesced event costs nothing but latency, and the periodic rescan covers
/// inotify queue overflow and filesystems without inotify.
final class SpoolWatcher {
    private let layout: SpoolLayout
    private let log: EventLog
    private let queue: DispatchQueue
    private let onChange: () -> Void
    private var inotify: Inotify?
    private var source: DispatchSourceRead?
    /// Watched incoming folders by tenant, and the reverse map for events.
    private var incomingWatches: [String: WatchDescriptor] = [:]
    private var tenantsByWatch: [WatchDescriptor: String] = [:]
    private var privateWatch: WatchDescriptor?
    /// Called when a folder appears in `tenants/` (a tenant added while running).
    var onTenantFolder: () -> Void = {}
    /// Called for every event on an upload in a tenant's `incoming/` (closed after writing,
    /// attributes set, created, renamed in): a change seen, from which its quiet time starts
    /// again (`UploadCompletion`).
    var onUploadChange: (_ tenant: String, _ name: String) -> Void = { _, _ in }
    private var tenantsWatch: WatchDescriptor?

    init(layout: SpoolLayout, log: EventLog, queue: DispatchQueue, onChange: @escaping () -> Void) {
        self.layout = layout
        self.log = log
        self.queue = queue
        self.onChange = onChange
    }

    /// Starts watching; without inotify the daemon still works on its rescans.
    func start() {
        do {
            let inotify = try Inotify()
            self.inotify = inotify
            tenantsWatch = try inotify.addWatch(layout.tenantsDirectory, mask: [.create, .movedTo, .onlyDirectory])
            privateWatch = try inotify.addWatch(layout.privateDirectory, mask: [.closeWrite, .movedTo, .attributes, .onlyDirectory])
            let source = DispatchSource.makeReadSource(fileDescriptor: inotify.fileDescriptor.rawValue, queue: queue)
            source.setEventHandler { [weak self] in self?.drain() }
            // Closed once Dispatch is done with it, as Dispatch asks: cancelling is asynchronous,
            // and Dispatch keeps its sources by descriptor number, so a number closed before and
            // opened again meanwhile (a reload's new inotify) could meet the old registration.
            source.setCancelHandler { try? inotify.close() }
            source.resume()
            self.source = source
        } catch {
            log.log("inotify_unavailable", ["error": "\(error)", "fallback": "rescan only"])
        }
    }

    func stop() {
        if let source {
            source.cancel()  // its cancel handler closes the inotify descriptor
        } else {
            try? inotify?.close()
        }
        source = nil
        inotify = nil
    }

    /// Adds watches for tenants not watched yet, and forgets those whose folder is gone.
    func sync(tenants: [String]) {
        guard let inotify else { return }
        for tenant in tenants where incomingWatches[tenant] == nil {
            let path = layout.incoming(tenant)
            do {
                // Not IN_MODIFY: every write of an upload would wake the daemon (a 50 MB upload in
                // sftp's 32 KiB writes: 1,600 events) and it says nothing the lease and the ctime
                // do not: a write needs the file open for writing (no lease is granted), then
                // IN_CLOSE_WRITE comes; a truncate by path moves the ctime the next look compares.
                let wd = try inotify.addWatch(path, mask: [.closeWrite, .movedTo, .create, .attributes, .onlyDirectory, .dontFollow,
                                                           .deleteSelf, .moveSelf])
                incomingWatches[tenant] = wd
                tenantsByWatch[wd] = tenant
                log.log("watching", ["tenant": tenant, "path": path])
            } catch {
                log.log("tenant_unwatchable", ["tenant": tenant, "path": path, "error": "\(error)"])
            }
        }
    }

    private func drain() {
        guard let inotify else { return }
        let events: [InotifyEvent]
        do { events = try inotify.readEvents() } catch {
            log.log("inotify_read_failed", ["error": "\(error)"])
            onChange()
            return
        }
        var changed = false
        for event in events {
            if event.mask.contains(.overflow) {
                log.log("inotify_overflow", ["action": "rescan"])
                changed = true
                continue
            }
            if event.mask.contains(.ignored) || event.mask.contains(.deleteSelf) || event.mask.contains(.moveSelf),
               let tenant = tenantsByWatch[event.watch] {
                // The folder went away (or was moved): stop watching it; the rescan watches it
                // again if it comes back.
                tenantsByWatch[event.watch] = nil
                incomingWatches[tenant] = nil
                if !event.mask.contains(.ignored) { try? inotify.removeWatch(event.watch) }
                log.log("tenant_folder_vanished", ["tenant": tenant, "path": layout.incoming(tenant)])
                continue
            }
            if event.watch == privateWatch {
                if event.name == Wakeup.fileName { changed = true }
                continue  // the database and lock files live there too
            }
            if event.watch == tenantsWatch {
                onTenantFolder()
                changed = true
                continue
            }
            if let name = event.name, name.hasPrefix(".") || name.hasSuffix(".part") || name.hasSuffix(".tmp") || name.hasSuffix(".filepart") {
                continue  // an upload in progress: its rename or close comes later
            }
            if let name = event.name, let tenant = tenantsByWatch[event.watch] { onUploadChange(tenant, name) }
            changed = true
        }
        if changed { onChange() }
    }
}
