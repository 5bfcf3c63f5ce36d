import MassivaDatabase
import MassivaDomain

/// An SI account: a Unix login that uploads for one tenant over SFTP, and the person's name
/// that CONFIGURATORE and the audit trail show for it.
public struct Account: Sendable, Equatable {
    public var login: String
    public var tenant: String
    /// The person, "Nome Cognome": what CONFIGURATORE shows.
    public var name: String
    /// The same person's given name and surname apart (migration 3), as the portal's forms
    /// have them; the report filters on each.
    public var person: PersonName
    public var uid: UInt32
    public var createdAt: Double

    public init(login: String, tenant: String, person: PersonName, uid: UInt32, createdAt: Double) {
        self.login = login
        self.tenant = tenant
        self.name = person.fullName
        self.person = person
        self.uid = uid
        self.createdAt = createdAt
    }
}

/// Who a bulk request or a single association is recorded as made by.
public struct ConfiguratorIdentity: Sendable, Equatable {
    /// CONFIGURATORE: the account's person, or the login / name as given.
    public var name: String
    /// Known only for an account.
    public var person: PersonName

    public init(name: String, person: PersonName = .unknown) {
        self.name = name
        self.person = person
    }
}

/// The `accounts` table (migrations 2 and 3).
extension StateStore {
    static let accountColumns = "login, tenant, name, uid, created_at, given_name, surname"

    static func account(_ s: Statement) -> Account {
        var account = Account(login: s.text("login"), tenant: s.text("tenant"),
                              person: PersonName(givenName: s.text("given_name"), surname: s.text("surname")),
                              uid: UInt32(clamping: s.int("uid")), createdAt: s.double("created_at"))
        // The name as recorded: an account from before migration 3 keeps its own spelling.
        account.name = s.text("name")
        return account
    }

    public func addAccount(_ account: Account) throws {
        try database.run("INSERT INTO accounts(\(Self.accountColumns)) VALUES(?, ?, ?, ?, ?, ?, ?)",
                         [.text(account.login), .text(account.tenant), .text(account.name),
                          .int(Int(account.uid)), .double(account.createdAt),
                          .text(account.person.givenName), .text(account.person.surname)])
    }

    /// Sets an account's given name and surname (and so its name), e.g. to correct the split
    /// migration 3 guessed. What it made before keeps the name it was made under. False when
    /// there is no account of that login.
    @discardableResult
    public func setAccountPerson(login: String, _ person: PersonName) throws -> Bool {
        try database.run("UPDATE accounts SET name = ?, given_name = ?, surname = ? WHERE login = ?",
                         [.text(person.fullName), .text(person.givenName), .text(person.surname), .text(login)])
        return database.changes > 0
    }

    /// Forgets an account; false when there was none of that login.
    @discardableResult
    public func removeAccount(login: String) throws -> Bool {
        try database.run("DELETE FROM accounts WHERE login = ?", [.text(login)])
        return database.changes > 0
    }

    public func account(login: String) throws -> Account? {
        try database.queryOne("SELECT \(Self.accountColumns) FROM accounts WHERE login = ?", [.text(login)], Self.account)
    }

    /// Every account, or a tenant's, by login.
    public func accounts(tenant: String? = nil) throws -> [Account] {
        let filter = tenant == nil ? "" : " WHERE tenant = ?"
        return try database.query("SELECT \(Self.accountColumns) FROM accounts\(filter) ORDER BY login",
                                  tenant.map { [.text($0)] } ?? [], Self.account)
    }

    /// What CONFIGURATORE shows for an upload by `login` into `tenant`'s folder: the person's
    /// name when `login` is one of that tenant's accounts, else the login itself.
    public func configuratorName(login: String, tenant: String) throws -> String {
        try configurator(login: login, tenant: tenant).name
    }

    /// The person behind `login` when it is one of `tenant`'s accounts (never another tenant's
    /// account: its person is not this tenant's to record), else the login with no person.
    public func configurator(login: String, tenant: String) throws -> ConfiguratorIdentity {
        guard let account = try account(login: login), account.tenant == tenant else { return ConfiguratorIdentity(name: login) }
        return ConfiguratorIdentity(name: account.name, person: account.person)
    }
}
