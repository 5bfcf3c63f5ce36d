import MassivaDatabase

// MARK: Tenants (the `tenants` table)

extension StateStore {
    public func addTenant(id: String, name: String, now: Double) throws {
        try database.run("INSERT INTO tenants(id, name, enabled, created_at) VALUES(?, ?, 1, ?)", [.text(id), .text(name), .double(now)])
    }

    public func setTenant(_ id: String, enabled: Bool) throws -> Bool {
        try database.run("UPDATE tenants SET enabled = ? WHERE id = ?", [SQLValue(enabled), .text(id)])
        return database.changes > 0
    }

    public func tenants() throws -> [Tenant] {
        try database.query("SELECT id, name, enabled, created_at FROM tenants ORDER BY id", [], Self.tenant)
    }

    public func tenant(_ id: String) throws -> Tenant? {
        try database.queryOne("SELECT id, name, enabled, created_at FROM tenants WHERE id = ?", [.text(id)], Self.tenant)
    }

    static func tenant(_ s: Statement) -> Tenant {
        Tenant(id: s.text("id"), name: s.text("name"), enabled: s.bool("enabled"), createdAt: s.double("created_at"))
    }
}
