import MassivaDomain
import MassivaStore
import MassivaSystem

/// `incoming/<REQ>.cancel`: an SI's way to cancel a request of its own while it is still queued.
/// Consumed either way; what it did goes to the log.
struct CancelFile {
    let layout: SpoolLayout
    let store: StateStore
    let log: EventLog

    static let suffix = ".cancel"

    /// Whether an upload is a cancel file rather than a request.
    static func isCancel(_ entry: RawFileName) -> Bool {
        entry.isUTF8 && entry.displayName.hasSuffix(suffix)
    }

    /// Cancels the request `entry` names if it is `tenant`'s and still queued, then removes it.
    func handle(tenant: Tenant, entry: RawFileName, now: Double) {
        let name = entry.displayName
        let idText = String(name.dropLast(Self.suffix.count))
        defer { try? FileSystem.unlink(entry, in: layout.incoming(tenant.id)) }
        guard let id = RequestID(parsing: idText) else {
            log.log("cancel_refused", ["tenant": tenant.id, "file": name, "reason": "not a request id"])
            return
        }
        do {
            switch try store.cancel(id, tenant: tenant.id, now: now) {
            case .cancelled: log.log("cancelled", ["id": id.description, "tenant": tenant.id])
            case .notQueued(let status): log.log("cancel_refused", ["id": id.description, "tenant": tenant.id, "reason": "request is \(status.rawValue)"])
            case .notFound: log.log("cancel_refused", ["id": id.description, "tenant": tenant.id, "reason": "no such request for this tenant"])
            }
        } catch {
            log.log("cancel_failed", ["id": id.description, "tenant": tenant.id, "error": "\(error)"])
        }
    }
}
