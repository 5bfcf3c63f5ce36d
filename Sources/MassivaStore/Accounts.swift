import MassivaDatabase

/// An SI account: a Unix login that uploads for one tenant over SFTP, and the person's name
/// that CONFIGURATORE and the audit trail show for it.
public struct Account: Sendable, Equatable {
    public var login: String
    public var tenant: String
    /// The person, "Nome Cognome".
    public var name: String
    public var uid: UInt32
    public var createdAt: Double

    public init(login: String, tenant: String, name: String, uid: UInt32, createdAt: Double) {
        self.login = login
        self.tenant = tenant
        self.name = name
        self.uid = uid
        self.createdAt = createdAt
    }
}

/// The `accounts` table (migration 2).
extension StateStore {
    public func addAccount(_ account: Account) throws {
        try database.run("INSERT INTO accounts(login, tenant, name, uid, created_at) VALUES(?, ?, ?, ?, ?)",
                         [.text(account.login), .text(account.tenant), .text(account.name),
                          .int(Int(account.uid)), .double(account.createdAt)])
    }

    /// Forgets an account; false when there was none of that login.
    @discardableResult
    public func removeAccount(login: String) throws -> Bool {
        try database.run("DELETE FROM accounts WHERE login = ?", [.text(login)])
        return database.changes > 0
    }

    public func account(login: String) throws -> Account? {
        try database.queryOne("SELECT login, tenant, name, uid, created_at FROM accounts WHERE login = ?", [.text(login)]) {
            Account(login: $0.text(0), tenant: $0.text(1), name: $0.text(2), uid: UInt32(clamping: $0.int(3)), createdAt: $0.double(4))
        }
    }

    /// Every account, or a tenant's, by login.
    public func accounts(tenant: String? = nil) throws -> [Account] {
        let filter = tenant == nil ? "" : " WHERE tenant = ?"
        return try database.query("SELECT login, tenant, name, uid, created_at FROM accounts\(filter) ORDER BY login",
                                  tenant.map { [.text($0)] } ?? []) {
            Account(login: $0.text(0), tenant: $0.text(1), name: $0.text(2), uid: UInt32(clamping: $0.int(3)), createdAt: $0.double(4))
        }
    }

    /// What CONFIGURATORE shows for an upload by `login` into `tenant`'s folder: the person's
    /// name when `login` is one of that tenant's accounts, else the login itself.
    public func configuratorName(login: String, tenant: String) throws -> String {
        guard let account = try account(login: login), account.tenant == tenant else { return login }
        return account.name
    }
}
