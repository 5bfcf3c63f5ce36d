import MassivaDomain
import MassivaStore
import MassivaSystem

/// `incoming/<REQ>.cancel`: an SI's way to cancel a request of its own while it is still queued.
/// Consumed either way, and always answered where the SI looks (`results/`): a cancelled request
/// says so, one past its queue gets a note; a `.cancel` naming no request of the tenant (none by
/// that number, another SI's, or no number at all) becomes one rejected request of its own whose
/// reason says so, in the same words for a number that does not exist and for another SI's,
/// so that no SI learns which numbers are in use.
struct CancelFile {
    let layout: SpoolLayout
    let store: StateStore
    let log: EventLog

    static let suffix = ".cancel"

    /// Whether an upload is a cancel file rather than a request.
    static func isCancel(_ entry: RawFileName) -> Bool {
        entry.isUTF8 && entry.displayName.hasSuffix(suffix)
    }

    /// The database key of a `.cancel` answered with a request of its own: its inode, time and
    /// name, so that a crash between the answer and the removal does not answer it twice.
    static func key(name: String, status: FileStatus) -> String {
        var key = "cancel-\(String(status.inode, radix: 16))-\(String(UInt64(max(0, status.modificationTime) * 1e6), radix: 16))-" + name
        while key.utf8.count > ClaimName.maxBytes { key.removeLast() }
        return key
    }

    /// Cancels the request `entry` names if it is `tenant`'s and still queued, then removes it.
    func handle(tenant: Tenant, entry: RawFileName, now: Double) {
        let name = entry.displayName
        let idText = String(name.dropLast(Self.suffix.count))
        let incoming = layout.incoming(tenant.id)
        guard let id = RequestID(parsing: idText) else {
            log.log("cancel_refused", ["tenant": tenant.id, "file": name, "reason": "not a request id"])
            answer(tenant: tenant, entry: entry, rejection: .cancelNameInvalid(idText), now: now)
            return
        }
        do {
            switch try store.cancel(id, tenant: tenant.id, now: now) {
            case .cancelled: log.log("cancelled", ["id": id.description, "tenant": tenant.id])
            case .notQueued(let status): log.log("cancel_refused", ["id": id.description, "tenant": tenant.id, "reason": "request is \(status.rawValue)"])
            case .notFound:
                // The log, the operator's, tells the two apart; the SI's answer does not.
                log.log("cancel_refused", ["id": id.description, "tenant": tenant.id, "reason": "no such request for this tenant"])
                answer(tenant: tenant, entry: entry, rejection: .cancelTargetNotFound(id), now: now)
                return
            }
        } catch {
            log.log("cancel_failed", ["id": id.description, "tenant": tenant.id, "error": "\(error)"])
        }
        try? FileSystem.unlink(entry, in: incoming)
    }

    /// Records the answer to a `.cancel` that cancels nothing, as a rejected request named after
    /// it, then removes the file; left for the next pass when the answer cannot be recorded.
    private func answer(tenant: Tenant, entry: RawFileName, rejection: FileRejection, now: Double) {
        let incoming = layout.incoming(tenant.id)
        let name = entry.displayName
        do {
            guard let status = try? FileStatus.ofLink(entry, in: incoming) else { return }  // gone meanwhile
            let who = try store.configurator(ofOwner: status.userID, tenant: tenant.id)
            let id = try store.transaction {
                try store.createRequest(tenant: tenant.id, fileName: name, configurator: who.name, configuratorPerson: who.person,
                                        claimName: Self.key(name: name, status: status), content: nil, rejection: rejection, now: now)
            }
            log.log("rejected", ["id": id.description, "tenant": tenant.id, "file": name, "reason": rejection.reason])
            try? FileSystem.unlink(entry, in: incoming)
        } catch {
            log.log("cancel_failed", ["tenant": tenant.id, "file": name, "error": "\(error)"])
        }
    }
}
