import MassivaDomain
import MassivaStore
import MassivaSystem

/// Re-uploads recognised, as Apache Camel's idempotent consumer does: an upload with the same
/// name and the same bytes (SHA-256) as one of its tenant's requests of the last `window`
/// seconds becomes one rejected request whose reason names the earlier one, and none of its
/// rows is processed twice. An SI whose client reported a failed transfer that had in fact
/// arrived (lftp's `chmod` after the daemon took the file: 20 files sent again, 20 requests)
/// is told so instead. Which earlier requests count: `StateStore.earlierUpload`.
///
/// Asked inside the transaction that records the upload (`ClaimRecorder`), on the daemon's
/// clock: two twins claimed in one pass are told apart in order.
struct DuplicateUploads {
    let store: StateStore
    /// `duplicate_upload_window`, seconds; 0 turns the check off.
    let window: Double

    /// The rejection of `upload` as a re-upload, with the request it repeats; nil when it is
    /// none (or already rejected for another reason, which it keeps).
    func check(_ upload: ClaimedUpload, tenant: String, now: Double) throws -> (rejection: FileRejection, earlier: RequestID)? {
        guard window > 0, upload.rejection == nil, let digest = upload.digest else { return nil }
        guard let earlier = try store.earlierUpload(tenant: tenant, fileName: upload.fileName, digest: digest,
                                                    since: now - window) else { return nil }
        // Its time as the result files write every time (local, with its offset).
        return (.duplicateUpload(earlier: earlier.id, submittedAt: SystemClock.iso8601(earlier.submittedAt)), earlier.id)
    }
}
