import MassivaConfig
import MassivaProcessing
import MassivaDomain
import MassivaSpool
import MassivaStore
import MassivaSystem

/// `account add|remove|list`: the SI accounts that upload over SFTP, chrooted to their tenant's
/// folder. Each is a Unix user with no shell, in the tenant's group (`si-<id>`, which may enter
/// `incoming/` and `results/`) and in `sftp_group` (which the sshd configuration confines to
/// `internal-sftp`), with its public key in `authorized_keys_directory`.
enum AccountCommands {
    static let all: [Command] = [add, remove, list, rename]

    static let givenName = OptionDeclaration("--given-name", valueName: "NOME", help: "the person's given name (Nome)")
    static let surname = OptionDeclaration("--surname", valueName: "COGNOME", help: "the person's surname (Cognome)")

    static let add = Command(CommandDeclaration(
        ["account", "add"], summary: "create an SI account (root): SFTP only, chrooted to the tenant's folder, with its key and the person's name",
        options: [givenName, surname,
                  OptionDeclaration("--name", valueName: "\"NOME COGNOME\"",
                                    help: "instead of --given-name and --surname, a name of exactly two words (Nome Cognome)"),
                  OptionDeclaration("--key", valueName: "FILE", help: "the account's OpenSSH public key file (.pub)")],
        positionals: [PositionalDeclaration("TENANT", help: "the tenant the account uploads for"),
                      PositionalDeclaration("LOGIN", help: "the Unix login: a-z, 0-9, _ and -, at most 32")]),
        privilege: .root) { context in
        let (tenantID, login) = (context.arguments.positionals[0], context.arguments.positionals[1])
        let person = try personName(context)
        let name = person.fullName
        let keyPath = try context.arguments.require("--key")
        guard UnixName.isValid(login) else {
            throw CLIError("\"\(login)\" is not a valid login (a-z, 0-9, _ and -, at most 32, starting with a letter or _)", status: 2)
        }
        // Read before anything changes (and while still root: the key may be root's).
        let keys: [String]
        do {
            // A regular file only, opened without blocking (a FIFO would hang the command).
            let bytes = try RegularFile.read(keyPath, limit: 64 * 1024)
            keys = try PublicKeyFile.parse(bytes).get()
        } catch let error as CLIError { throw error } catch { throw CLIError("cannot read the key file: \(error)", status: 2) }

        try requireRoot("account add")
        let configuration = try context.configuration()
        let layout = try context.layout()
        let owner = try context.spoolOwner()
        let store = try context.store()
        guard try context.asSpoolOwner({ try store.tenant(tenantID) }) != nil else {
            throw CLIError("unknown tenant \"\(tenantID)\" (see massiva tenant list)")
        }
        if UnixUser.named(login) != nil { throw CLIError("a user \"\(login)\" already exists on this system") }
        guard let tenantGroup = SpoolPermissions.tenantGroup(tenantID) else {
            throw CLIError("tenant id \"\(tenantID)\" is too long for its Unix group (at most 29 characters)")
        }

        var undo = UndoList()
        do {
            _ = try TenantFolders.ensureGroup(configuration.sftpGroup, undo: &undo)
            // The tenant's folders by the scheme, its group included (a tenant added before its
            // first account, or on a spool not yet deployed, gets them now).
            guard let daemon = owner ?? UnixUser.withID(0) else { throw CLIError("no user root") }
            try TenantFolders.create(tenantID, layout: layout, owner: daemon, undo: &undo)
            try TenantFolders.runTool(["useradd", "--home-dir", layout.tenantDirectory(tenantID), "--no-create-home",
                                       "--shell", "/usr/sbin/nologin", "--gid", tenantGroup, "--groups", configuration.sftpGroup,
                                       "--comment", name, "--password", "*", login])
            undo.add { _ = try? Subprocess.run(["userdel", login]) }
            guard let user = UnixUser.named(login) else { throw CLIError("useradd made no user \(login)") }
            let keyFile = try writeKeys(keys, login: login, directory: configuration.authorizedKeysDirectory, undo: &undo)
            try context.asSpoolOwner {
                try store.addAccount(Account(login: login, tenant: tenantID, person: person, uid: user.uid, createdAt: context.clock.now))
            }
            Output.print("account \(login) added for tenant \(tenantID) (uid \(user.uid)); key in \(keyFile)")
        } catch {
            undo.run()
            if let error = error as? CLIError { throw error }
            throw CLIError("cannot add account \"\(login)\": \(error)")
        }
        return 0
    }

    static let remove = Command(CommandDeclaration(
        ["account", "remove"], summary: "remove an SI account (root): its Unix user, its key, its record",
        positionals: [PositionalDeclaration("LOGIN", help: "the account's login")]), privilege: .root) { context in
        let login = context.arguments.positionals[0]
        try requireRoot("account remove")
        let configuration = try context.configuration()
        let store = try context.store()
        // Only massiva's own accounts: never a system user someone typed by mistake.
        guard let account = try context.asSpoolOwner({ try store.account(login: login) }) else {
            throw CLIError("\"\(login)\" is not an SI account of this spool (see massiva account list)")
        }
        if let user = UnixUser.named(login) {
            guard user.uid == account.uid else {
                throw CLIError("the user \"\(login)\" has uid \(user.uid), not the account's \(account.uid): not removed")
            }
            // Its SFTP sessions end with it (userdel refuses a user with processes).
            _ = try? Subprocess.run(["pkill", "-KILL", "-u", login])
            try TenantFolders.runTool(["userdel", login])
        }
        let keyFile = configuration.authorizedKeysDirectory + "/" + login
        if FileSystem.exists(keyFile) { try FileSystem.unlink(keyFile) }
        _ = try context.asSpoolOwner { try store.removeAccount(login: login) }
        Output.print("account \(login) removed (tenant \(account.tenant))")
        return 0
    }

    static let list = Command(CommandDeclaration(
        ["account", "list"], summary: "list the SI accounts", options: [Options.tenant], flags: [Options.csv]),
        privilege: .spoolOwner) { context in
        let accounts = try context.store().accounts(tenant: context.arguments.value("--tenant"))
        let rows = accounts.map {
            [$0.login, $0.tenant, $0.person.givenName, $0.person.surname, $0.name, String($0.uid), SystemClock.iso8601($0.createdAt)]
        }
        Output.rows(["LOGIN", "TENANT", "NOME", "COGNOME", "CONFIGURATORE", "UID", "CREATO"], rows, csv: context.arguments.flag("--csv"),
                    encoding: try context.configuration().resultsEncoding.csv)
        return 0
    }

    /// Sets the person of an account: for accounts whose given name and surname migration 3
    /// guessed from their one name (split at the first space), or a person who changed name.
    /// Only the record changes (the Unix user's comment stays as `account add` wrote it); what
    /// the account made before keeps the name it was made under.
    static let rename = Command(CommandDeclaration(
        ["account", "name"], summary: "set an SI account's given name and surname (Nome, Cognome)",
        options: [givenName, surname],
        positionals: [PositionalDeclaration("LOGIN", help: "the account's login")]), privilege: .spoolOwner) { context in
        let login = context.arguments.positionals[0]
        let person = try personName(context, acceptsName: false)
        guard try context.store().setAccountPerson(login: login, person) else {
            throw CLIError("\"\(login)\" is not an SI account of this spool (see massiva account list)")
        }
        Output.print("account \(login): Nome \(person.givenName), Cognome \(person.surname)")
        return 0
    }

    /// `--given-name` and `--surname`, or `--name` of exactly two words: a longer one ("Maria
    /// Grazia Rossi", "Anna De Luca") does not say where the surname starts, so it is refused
    /// rather than guessed.
    static func personName(_ context: CommandContext, acceptsName: Bool = true) throws -> PersonName {
        func check(_ value: String, _ option: String) throws -> String {
            let value = value.trimmingWhitespace()
            guard !value.isEmpty, value.utf8.count <= 100,
                  !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == ":" || $0 == "," }) else {
                throw CLIError("\(option) must be part of a person's name: not empty, at most 100 bytes, no control characters, ':' or ','",
                               status: 2)
            }
            return value
        }
        let given = context.arguments.value("--given-name"), family = context.arguments.value("--surname")
        if acceptsName, let name = context.arguments.value("--name") {
            guard given == nil && family == nil else { throw CLIError("give --name or --given-name and --surname, not both", status: 2) }
            let words = name.split(whereSeparator: { $0.isWhitespace }).map(String.init)
            guard words.count == 2 else {
                throw CLIError("--name \"\(name)\": give the given name and the surname apart, --given-name NOME --surname COGNOME"
                               + " (only a name of two words is split)", status: 2)
            }
            return PersonName(givenName: try check(words[0], "--name"), surname: try check(words[1], "--name"))
        }
        guard let given, let family else { throw CLIError("missing --given-name NOME and --surname COGNOME", status: 2) }
        return PersonName(givenName: try check(given, "--given-name"), surname: try check(family, "--surname"))
    }

    static func requireRoot(_ command: String) throws {
        guard ProcessCredentials.isRoot else { throw CLIError("\(command) changes the system's users: run it as root") }
    }

    /// `<directory>/<login>`, root's, mode 0644 (sshd's StrictModes), written atomically.
    static func writeKeys(_ keys: [String], login: String, directory: String, undo: inout UndoList) throws -> String {
        if !FileSystem.exists(directory) {
            try FileSystem.makeDirectory(directory, mode: 0o755, intermediate: true)
            try FileSystem.setPermissions(directory, 0o755)
        }
        let path = directory + "/" + login
        try AtomicFile.write(Array((keys.joined(separator: "\n") + "\n").utf8), to: path, temporaryDirectory: directory, permissions: 0o644)
        undo.add { try? FileSystem.unlink(path) }
        return path
    }
}
