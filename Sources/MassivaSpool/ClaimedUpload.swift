import MassivaDomain
import MassivaStore
import MassivaSystem

/// A claimed entry, read (or refused unread), ready to be recorded as a request.
struct ClaimedUpload {
    var claim: ClaimName
    var fileName: String
    var configurator: ConfiguratorIdentity
    var content: [UInt8]?
    var rejection: FileRejection?
    var regular: Bool
    /// Its data rows, counted before the recording transaction (which stays short).
    var rowsTotal = 0
    /// Its modification time: when the SI finished the upload (the metrics' latency starts).
    var droppedAt: Double? = nil
    /// SHA-256 of `content`, taken before the recording transaction: what a re-upload is
    /// recognised by (`DuplicateUploads`).
    var digest: [UInt8]? = nil

    /// Whether the entry is kept aside once recorded, rather than removed: it was not read.
    var isRefusedUnread: Bool { !regular || content == nil }

    /// Reads the claimed entry `claim` of `folder`, only if it is a regular file within
    /// `maxFileSize`; anything else is refused with its reason. Nil when the entry is gone.
    /// `configurator` names the owner of a uid (`StateStore.configurator(ofOwner:tenant:)`).
    static func read(_ claim: ClaimName, in folder: ClaimFolder, configurator: (UInt32) throws -> ConfiguratorIdentity,
                     tenantEnabled: Bool, maxFileSize: Int, maxRows: Int) throws -> ClaimedUpload? {
        let path = folder.path(of: claim)
        guard let status = try? FileStatus.ofLink(path) else { return nil }
        var claimed = ClaimedUpload(claim: claim, fileName: folder.fileName(of: claim),
                                    configurator: try configurator(status.userID),
                                    content: nil, rejection: nil, regular: status.kind == .regular,
                                    droppedAt: status.modificationTime)
        if claim.isNotUTF8 {
            // Refused unread, kept aside: the SI sees the request under the name's display form.
            claimed.rejection = .nameNotUTF8
            claimed.regular = false
        } else if status.kind == .directory {
            claimed.rejection = .folder
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
                folder.log.log("unreadable", ["tenant": folder.tenant, "file": claimed.fileName, "error": "\(error)"])
            }
        }
        if claimed.rejection == nil && !tenantEnabled { claimed.rejection = .tenantDisabled }
        if claimed.rejection == nil, let content = claimed.content {
            claimed.rowsTotal = BulkFile.dataRowCount(content, maxRows: maxRows)
        }
        if let content = claimed.content { claimed.digest = SHA256.hash(content) }
        return claimed
    }
}
