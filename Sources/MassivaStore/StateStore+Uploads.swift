import MassivaDatabase
import MassivaDomain

// MARK: Re-uploads (duplicate_upload_window)

extension StateStore {
    /// An earlier request of `tenant` that a new upload repeats: the same `fileName`, the same
    /// bytes (`digest`, SHA-256), recorded at `since` or later, and taken to be processed
    /// (queued, processing or done). The latest such, or nil. Called inside the transaction
    /// that records the new upload, so two twins recorded together see each other.
    ///
    /// Which earlier requests count, and why:
    /// - not a rejected one: a file rejected for what it holds would be rejected again anyway,
    ///   and one rejected for another reason (a disabled tenant) must be taken when sent again;
    /// - not a rejected re-upload itself (`duplicate_of`): the window runs from the upload that
    ///   was processed, so an SI who sends the same file every day has it taken again once the
    ///   window has passed, instead of rejected for ever, each rejection extending the last;
    /// - not a cancelled one: the SI cancelled it before any row was processed (cancel works only
    ///   while queued), and sending it again is how it asks for it after all.
    public func earlierUpload(tenant: String, fileName: String, digest: [UInt8], since: Double) throws
        -> (id: RequestID, submittedAt: Double)? {
        // SQLite is named the partial index (as written with migration 8); PostgreSQL has no
        // INDEXED BY, and its planner matches `content_digest = ?` to the index's condition itself.
        try database.queryOne("""
            SELECT id, submitted_at FROM requests \(database.dialect(sqlite: "INDEXED BY requests_uploads", postgresql: ""))
            WHERE tenant = ? AND file_name = ? AND content_digest = ? AND submitted_at >= ?
            AND duplicate_of IS NULL AND status IN ('queued', 'processing', 'done')
            ORDER BY submitted_at DESC, id DESC LIMIT 1
            """, [.text(tenant), .text(fileName), .blob(digest), .double(since)]) {
            (id: RequestID($0.int("id")), submittedAt: $0.double("submitted_at"))
        }
    }

    /// The request a rejected re-upload repeats, if it is one.
    public func duplicateOf(_ id: RequestID) throws -> RequestID? {
        try database.queryOne("SELECT duplicate_of FROM requests WHERE id = ? AND duplicate_of IS NOT NULL", [.int(id.number)]) {
            RequestID($0.int("duplicate_of"))
        }
    }
}
