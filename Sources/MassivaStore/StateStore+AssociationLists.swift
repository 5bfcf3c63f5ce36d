import MassivaDatabase

// MARK: Association lists (associazioni.csv; the `association_lists` table)

extension StateStore {
    // Per tenant (`association_lists`), the version of its associations and the version its
    // associazioni.csv shows. A tenant without a line there never had its list written (state
    // 1, results 0).

    /// Marks `tenant`'s associazioni.csv stale: call in the transaction that creates or deletes
    /// (`removed`) one of its associations. After a removal the list is written whole again;
    /// after creations only, the new lines are appended to a copy of it.
    public func markAssociationsChanged(tenant: String, removed: Bool = false) throws {
        try database.run("""
            INSERT INTO association_lists(tenant, state_version, results_version, removed_version) VALUES(?1, 2, 0, 2)
            ON CONFLICT(tenant) DO UPDATE SET state_version = association_lists.state_version + 1,
                removed_version = CASE WHEN ?2 THEN association_lists.state_version + 1 ELSE association_lists.removed_version END
            """, [.text(tenant), SQLValue(removed)])
    }

    /// What a tenant's associazioni.csv holds, as last recorded.
    public struct AssociationListState: Sendable, Equatable {
        public var tenant: String
        /// The version to record once it is written.
        public var version: Int
        /// The version the file shows, and whether an association was removed since.
        public var writtenVersion: Int
        public var removedSinceWritten: Bool
        public var writtenLines: Int
        public var writtenThrough: (createdAt: Double, pod: String)?

        public static func == (a: Self, b: Self) -> Bool {
            a.tenant == b.tenant && a.version == b.version && a.writtenVersion == b.writtenVersion
                && a.removedSinceWritten == b.removedSinceWritten && a.writtenLines == b.writtenLines
                && a.writtenThrough?.createdAt == b.writtenThrough?.createdAt && a.writtenThrough?.pod == b.writtenThrough?.pod
        }
    }

    /// Tenants whose associazioni.csv lags behind their associations (or was never written).
    public func staleAssociationLists() throws -> [AssociationListState] {
        try database.query("""
            SELECT t.id AS tenant, coalesce(l.state_version, 1) AS version, coalesce(l.results_version, 0) AS written_version,
                   coalesce(l.removed_version, 1) AS removed_version, coalesce(l.written_lines, 0) AS written_lines,
                   l.written_through_at AS written_through_at, l.written_through_pod AS written_through_pod
            FROM tenants t LEFT JOIN association_lists l ON l.tenant = t.id
            WHERE coalesce(l.state_version, 1) <> coalesce(l.results_version, 0) ORDER BY t.id
            """, []) { s in
            let writtenVersion = s.int("written_version")
            let throughAt = s.optionalDouble("written_through_at"), throughPOD = s.optionalText("written_through_pod")
            return AssociationListState(tenant: s.text("tenant"), version: s.int("version"), writtenVersion: writtenVersion,
                                        removedSinceWritten: s.int("removed_version") > writtenVersion,
                                        writtenLines: s.int("written_lines"),
                                        writtenThrough: throughAt.flatMap { at in throughPOD.map { (at, $0) } })
        }
    }

    /// Records that associazioni.csv shows `version`: `lines` associations, the last one
    /// `through` (nil: none).
    public func markAssociationListWritten(tenant: String, version: Int, lines: Int = 0,
                                           through: (createdAt: Double, pod: String)? = nil) throws {
        // One transaction of its own: on the leader's fenced connection (LeaderFence) a
        // write is checked at its transaction's start; nested in the caller's, a savepoint.
        try database.transaction {
            try database.run("""
                INSERT INTO association_lists(tenant, state_version, results_version, removed_version, written_lines,
                                              written_through_at, written_through_pod) VALUES(?1, ?2, ?2, 0, ?3, ?4, ?5)
                ON CONFLICT(tenant) DO UPDATE SET results_version = ?2, written_lines = ?3, written_through_at = ?4,
                    written_through_pod = ?5 WHERE association_lists.results_version < ?2
                """, [.text(tenant), .int(version), .int(lines), SQLValue(through?.createdAt), SQLValue(through?.pod)])
        }
    }
}
