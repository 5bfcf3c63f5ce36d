import Foundation
import Glibc
import Testing

/// Issue 11: the portal's services closer to its manual, through the built binary.
/// The sample registry: IT001E00000001..4 are plain reachable exchange PODs; 16MOMSPC300000001
/// (NID DC2609C04EBA) and 16MOMSPC300000002 (NID DC26D3336C66) are acme's, 16MOMSPC300000101
/// (NID DC263200C19C) is voltaic's.
@Suite struct PortalTests {
    static let pod1 = "IT001E00000001", pod2 = "IT001E00000002"
    static let sid1 = "16MOMSPC300000001", nid1 = "DC2609C04EBA"
    static let sid2 = "16MOMSPC300000002", nid2 = "DC26D3336C66"
    static let voltaicSID = "16MOMSPC300000101", voltaicNID = "DC263200C19C"

    func out(_ spool: Spool, _ name: String = "out") throws -> String {
        let path = spool.root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func bytes(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }

    // MARK: 1. Single association by NID

    @Test func associateByNIDAloneOrWithItsSID() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let dir = try out(spool)
        // The NID alone, in lower case: the device it names is associated, its SCP named by SID.
        let byNID = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--nid", Self.nid1.lowercased(),
                                   "--type", "Standard", "--configurator", "Mario Rossi", "--out", dir])
        #expect(byNID.status == 0, "\(byNID.stderr)")
        #expect(byNID.stdout.contains("\(Self.sid1) (NID \(Self.nid1))"))
        #expect(FileManager.default.fileExists(atPath: dir + "/\(Self.sid1)_\(Self.pod1).scp"))
        #expect(try spool.sql("SELECT sid, nid FROM associations WHERE pod = '\(Self.pod1)'") == [[Self.sid1, Self.nid1]])
        // Both, naming the same device.
        let both = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod2, "--sid", Self.sid2, "--nid", Self.nid2,
                                  "--type", "Standard", "--out", dir])
        #expect(both.status == 0, "\(both.stderr)")
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 2)
    }

    @Test func aSIDAndANIDOfDifferentDevicesAreRefusedAndChangeNothing() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let dir = try out(spool)
        for (sid, nid) in [(Self.sid1, Self.nid2), (Self.sid1, "DC2600000000"), ("16MOMSPC399999999", Self.nid1),
                           (Self.sid1, Self.voltaicNID)] {
            let r = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", sid, "--nid", nid,
                                   "--type", "Standard", "--out", dir])
            #expect(r.status == 2, "\(sid) \(nid): \(r.stderr)")
            #expect(r.stderr.contains("non indicano lo stesso dispositivo"))
            // Nothing of the other SI's device is told.
            #expect(!r.stderr.contains(Self.voltaicSID) && !r.stdout.contains(Self.voltaicSID))
        }
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
        #expect(spool.list(dir).isEmpty)
        #expect(try spool.sql("SELECT DISTINCT outcome FROM audit WHERE action = 'associate'") == [["SID_NID_MISMATCH"]])
    }

    @Test func aNIDKeepsTheBulkRowsChecksAndTheirOrder() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let dir = try out(spool)
        func associate(_ pod: String, nid: String) throws -> RunResult {
            try spool.run(["associate", "--tenant", "acme", "--pod", pod, "--nid", nid, "--type", "Standard", "--out", dir])
        }
        // Another SI's device by its NID: check 11, and its SID is shown nowhere, not in the audit either.
        let other = try associate(Self.pod1, nid: Self.voltaicNID)
        #expect(other.status == 8 && other.stderr.contains("Dispositivo non appartenente"), "\(other.stderr)")
        #expect(!(other.stdout + other.stderr).contains(Self.voltaicSID))
        #expect(try spool.sql("SELECT sid, outcome FROM audit WHERE action = 'associate'") == [[Self.voltaicNID, "DEVICE_NOT_OWNED"]])
        // An unknown NID is an unknown device (check 10) ...
        let unknown = try associate(Self.pod1, nid: "DC2600000000")
        #expect(unknown.status == 8 && unknown.stderr.contains("inesistente"), "\(unknown.stderr)")
        // ... but an unknown POD comes first (check 6), as in a bulk row.
        let noPOD = try associate("IT001E99999999", nid: "DC2600000000")
        #expect(noPOD.status == 3 && noPOD.stderr.contains("POD inserito inesistente"), "\(noPOD.stderr)")
        // Not a NID at all; no device at all.
        #expect(try associate(Self.pod1, nid: "DC26XYZ").status == 2)
        let none = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--type", "Standard", "--out", dir])
        #expect(none.status == 2 && none.stderr.contains("--nid"))
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
    }

    /// The form's Tipo Dispositivo: checked against the tenant's own device; another SI's device
    /// is refused by check 11 as without it, its type not told.
    @Test func theDeviceTypeWhenGivenMustBeTheDevices() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let dir = try out(spool)
        let wrong = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--nid", Self.nid1, "--device-type", "Smart Info",
                                   "--type", "Standard", "--out", dir])
        #expect(wrong.status == 2 && wrong.stderr.contains("è MOME, non Smart Info"), "\(wrong.stderr)")
        let other = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.voltaicSID, "--device-type", "smart info",
                                   "--type", "Standard", "--out", dir])
        #expect(other.status == 8 && !other.stderr.contains("MOME"), "\(other.stderr)")
        #expect(try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.sid1, "--device-type", "Toaster",
                               "--type", "Standard", "--out", dir]).status == 2)
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
        try spool.ok(["associate", "--tenant", "acme", "--pod", Self.pod1, "--nid", Self.nid1, "--device-type", "mome",
                      "--type", "Standard", "--out", dir])
    }

    @Test func aNIDInABulkRowIsStillRefused() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let file = spool.incoming("acme") + "/nid.csv"
        try "POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n\(Self.pod1);\(Self.nid1);Standard\r\n"
            .write(toFile: file, atomically: false, encoding: .utf8)
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "nid.csv").first)
        #expect(try spool.esito(tenant: "acme", id: id).map { $0["CODICE"] } == ["NID_NOT_ALLOWED"])
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
    }

    // MARK: 2. Scarica file di configurazione

    @Test func theSCPOfAnAssociationCanBeWrittenAgainIdentical() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let first = try out(spool, "first"), again = try out(spool, "again")
        let made = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.sid1, "--type", "Standard",
                                  "--out", first])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("massiva scp --tenant acme --pod \(Self.pod1)"))
        let name = "/\(Self.sid1)_\(Self.pod1).scp"
        let original = try #require(bytes(first + name))
        // A day later (the command's clock moved, not the test's time spent): a later generation time would show.
        let r = try spool.runADayAhead(["scp", "--tenant", "acme", "--pod", Self.pod1.lowercased(), "--out", again])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("file SCP: \(again + name)"))
        #expect(bytes(again + name) == original)
        #expect(try spool.sql("SELECT tenant, pod, outcome FROM audit WHERE action = 'scp'") == [["acme", Self.pod1, "OK"]])
    }

    @Test func theSCPOfABulkRowIsTheOneInItsZip() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "acme-clean.csv").first)
        let dir = try out(spool)
        try spool.ok(["scp", "--tenant", "acme", "--pod", Self.pod1, "--out", dir])
        let script = try #require(bytes(dir + "/\(Self.sid1)_\(Self.pod1).scp"))
        #expect(String(decoding: script, as: UTF8.self).contains("request=\(id)\n"))
        // scp.zip stores its entries uncompressed: the same bytes are in it.
        let zip = try #require(bytes(spool.results("acme") + "/\(id)/scp.zip"))
        #expect(zip.firstRange(of: script) != nil)
    }

    @Test func anotherSIsAssociationHasNoSCPForThisSI() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.ok(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.sid1, "--type", "Standard",
                      "--out", try out(spool)])
        let dir = try out(spool, "voltaic")
        let r = try spool.run(["scp", "--tenant", "voltaic", "--pod", Self.pod1, "--out", dir])
        #expect(r.status == 8, "\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains(Self.sid1) && !(r.stdout + r.stderr).contains(Self.nid1))
        #expect(spool.list(dir).isEmpty)
        let none = try spool.run(["scp", "--tenant", "acme", "--pod", Self.pod2, "--out", dir])
        #expect(none.status == 8 && none.stderr.contains("non associato"))
        #expect(try spool.sql("SELECT tenant, outcome FROM audit WHERE action = 'scp' ORDER BY id")
                == [["voltaic", "NOT_OWNED"], ["acme", "NOT_ASSOCIATED"]])
    }

    /// The SCP is written before the association commits: where it cannot be written, nothing
    /// is associated (and the refusal is in the audit trail).
    @Test func anSCPThatCannotBeWrittenLeavesNoAssociation() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        // /proc is a directory nobody, root included, can create a file in.
        let r = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.sid1, "--type", "Standard",
                               "--out", "/proc"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("file SCP non scritto"))
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
        #expect(try spool.sql("SELECT outcome FROM audit WHERE action = 'associate'") == [["SCP_NOT_WRITTEN"]])
        // Done again where it can be written, it works: nothing was left half-made.
        try spool.ok(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.sid1, "--type", "Standard",
                      "--out", try out(spool)])
    }

    // MARK: 3. The referente's name

    /// Adds an SI account's record as `account add` does (without its Unix user, which needs
    /// root and is the deployment tests' business).
    func addAccountRecord(_ spool: Spool, login: String, tenant: String, given: String, surname: String) throws {
        _ = try spool.sql("""
            INSERT INTO accounts(login, tenant, name, uid, created_at, given_name, surname)
            VALUES('\(login)', '\(tenant)', '\(given) \(surname)', 4242, 0, '\(given)', '\(surname)')
            """)
    }

    @Test func anAccountsPersonIsRecordedAndFilteredByNomeAndCognome() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try addAccountRecord(spool, login: "mdeluca", tenant: "acme", given: "Maria Grazia", surname: "De Luca")
        try addAccountRecord(spool, login: "vbianchi", tenant: "voltaic", given: "Vera", surname: "Bianchi")
        let dir = try out(spool)
        let made = try spool.run(["associate", "--tenant", "acme", "--pod", Self.pod1, "--sid", Self.sid1, "--type", "Standard",
                                  "--account", "mdeluca", "--out", dir])
        #expect(made.status == 0, "\(made.stderr)")
        // The form's System Integrator: Ragione Sociale, Cognome, Nome.
        #expect(made.stdout.contains("System Integrator: ACME Impianti S.r.l., Cognome De Luca, Nome Maria Grazia"), "\(made.stdout)")
        try spool.ok(["associate", "--tenant", "acme", "--pod", Self.pod2, "--sid", Self.sid2, "--type", "Standard",
                      "--configurator", "Grazia Neri", "--out", dir])
        // Another tenant's account is not this tenant's to act as.
        let foreign = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000003", "--sid", "16MOMSPC300000003",
                                     "--type", "Standard", "--account", "vbianchi", "--out", dir])
        #expect(foreign.status == 2 && !foreign.stderr.contains("voltaic"), "\(foreign.stderr)")

        func report(_ filters: [String]) throws -> [String] {
            let r = try spool.run(["report", "--tenant", "acme", "--csv"] + filters)
            #expect(r.status == 0, "\(filters): \(r.stderr)")
            return r.stdout.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.map { String($0.prefix(14)) }
        }
        #expect(try report(["--given-name", "grazia"]) == [Self.pod1])     // Nome, not the whole name: not Grazia Neri
        #expect(try report(["--surname", "de luca"]) == [Self.pod1])
        #expect(try report(["--surname", "neri"]) == [])                   // a typed name has no Cognome
        #expect(try report(["--configurator", "grazia"]) == [Self.pod1, Self.pod2])
        #expect(try report(["--given-name", "maria", "--surname", "bianchi"]) == [])
        #expect(try report(["--all"]) == [Self.pod1, Self.pod2])
        // NOME CONFIGURATORE stays the whole name.
        #expect(try spool.run(["report", "--tenant", "acme", "--pod", Self.pod1, "--csv"]).stdout.contains(";Maria Grazia De Luca;"))
        // At least one filter, as the manual's note says.
        let bare = try spool.run(["report", "--tenant", "acme"])
        #expect(bare.status == 2 && bare.stderr.contains("almeno un criterio"))
        // The report is recorded too.
        #expect(try spool.sqlInt("SELECT count(*) FROM audit WHERE action = 'report'") >= 7)
    }

    @Test func anUploadByAnAccountRecordsItsPerson() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        // The test uploads as itself: its login is made an account of acme.
        let login = try #require(getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) })
        try addAccountRecord(spool, login: login, tenant: "acme", given: "Anna", surname: "Verdi")
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "acme-clean.csv").first)
        let rows = try spool.esito(tenant: "acme", id: id)
        #expect(Set(rows.map { $0["CONFIGURATORE"] }) == ["Anna Verdi"])
        #expect(Set(rows.map { $0["SYSTEM INTEGRATOR"] }) == ["ACME Impianti S.r.l."])
        let bySurname = try spool.run(["report", "--tenant", "acme", "--surname", "verdi", "--csv"])
        #expect(bySurname.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 21, "\(bySurname.stdout)")
        // show: SYSTEM INTEGRATOR is the person, as in Figura 13; the company is on the tenant line.
        let show = try spool.ok(["show", id]).stdout
        #expect(show.contains("tenant: acme (ACME Impianti S.r.l.)"))
        #expect(show.split(separator: "\n").filter { $0.contains(Self.pod1 + " ") }.allSatisfy { $0.contains("Anna Verdi") })
    }

    @Test func accountNamesAreGivenAndSurnameApart() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        // A name of more than two words does not say where the surname starts: refused, before
        // anything else (and before asking for root).
        let key = spool.root + "/k.pub"
        try "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0TXrLvuJdQq5S1GCQ6cH1C8ZQ3wGQ4Vv0n9n0r0m3T x\n"
            .write(toFile: key, atomically: false, encoding: .utf8)
        let long = try spool.run(["account", "add", "acme", "mgrossi", "--name", "Maria Grazia Rossi", "--key", key])
        #expect(long.status == 2 && long.stderr.contains("--given-name"), "\(long.stderr)")
        #expect(try spool.sqlInt("SELECT count(*) FROM accounts") == 0)
        // account name corrects the parts (e.g. of an account split by migration 3).
        try addAccountRecord(spool, login: "mgrossi", tenant: "acme", given: "Maria", surname: "Grazia Rossi")
        try spool.ok(["account", "name", "mgrossi", "--given-name", "Maria Grazia", "--surname", "Rossi"])
        #expect(try spool.sql("SELECT name, given_name, surname FROM accounts") == [["Maria Grazia Rossi", "Maria Grazia", "Rossi"]])
        #expect(try spool.run(["account", "name", "nobody", "--given-name", "A", "--surname", "B"]).status == 1)
        let list = try spool.ok(["account", "list", "--csv"]).stdout
        #expect(list.contains("mgrossi;acme;Maria Grazia;Rossi;Maria Grazia Rossi;"))
    }

    // MARK: 4. Progress of a queued request

    @Test func aQueuedRequestShowsItsRowsToDo() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let file = spool.root + "/three.csv"
        // A header, three rows, blank lines between (not counted).
        try "POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\n\(Self.pod1);\(Self.sid1);Standard\r\n\r\n\(Self.pod2);\(Self.sid2);Standard\r\nIT001E00000003;16MOMSPC300000003;standard\r\n"
            .write(toFile: file, atomically: false, encoding: .utf8)
        let id = try spool.ok(["submit", "--tenant", "acme", file]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try spool.requestList("acme").first?[4] == "0/3")
        #expect(try spool.stato(tenant: "acme", id: id)["rows_total"] as? Int == 3)
        #expect(try spool.ok(["list"]).stdout.contains(" 0/3 "))
        // A file that will be rejected has no rows to do.
        let bad = spool.root + "/bad.csv"
        try Data([0x50, 0x00, 0x44]).write(to: URL(fileURLWithPath: bad))
        let badID = try spool.ok(["submit", "--tenant", "acme", bad]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try spool.stato(tenant: "acme", id: badID)["rows_total"] as? Int == 0)
        try spool.ok(["serve", "--once"])
        #expect(try spool.requestList("acme").first { $0[0] == id }?[4] == "3/3")
    }

    // MARK: 5. template --example

    @Test func theExampleTemplateIsHarmlessIfUploadedAsItIs() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let plain = try spool.ok(["template"]).stdout
        let example = try spool.ok(["template", "--example"]).stdout
        #expect(example.hasPrefix(plain))
        let lines = example.components(separatedBy: "\r\n")
        #expect(lines.count == 4 && lines[3].isEmpty, "\(lines)")   // CRLF everywhere, no bare LF
        #expect(!example.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(lines[1].hasSuffix(";Standard") && lines[2].hasSuffix(";Prosumer"))
        #expect(example.utf8.allSatisfy { $0 < 0x80 })
        let file = spool.root + "/esempio.csv"
        try example.write(toFile: file, atomically: false, encoding: .utf8)
        // validate names both example rows ...
        let checked = try spool.run(["validate", file])
        #expect(checked.status == 1)
        #expect(checked.stdout.contains("esempio.csv:2: ") && checked.stdout.contains("esempio.csv:3: "), "\(checked.stdout)")
        #expect(checked.stdout.components(separatedBy: "INVALID_POD").count == 3)
        // ... and uploaded, they change nothing.
        try FileManager.default.copyItem(atPath: file, toPath: spool.incoming("acme") + "/esempio.csv")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "esempio.csv").first)
        #expect(try spool.esito(tenant: "acme", id: id).map { $0["CODICE"] } == ["INVALID_POD", "INVALID_POD"])
        #expect(try spool.sqlInt("SELECT count(*) FROM associations") == 0)
    }

    // MARK: 6. show

    @Test func showHasTheColumnsOfFigura13() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.copySample("acme-clean.csv", to: "acme")
        try spool.ok(["serve", "--once"])
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "acme-clean.csv").first)
        let lines = try spool.ok(["show", id]).stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("LINE") })
        for column in ["POD", "NID", "SID", "TIPO DISPOSITIVO", "TIPO CONFIG", "SYSTEM INTEGRATOR", "DATA ELABORAZIONE", "ESITO"] {
            #expect(header.contains(column), "\(column)")
        }
        let row = try #require(lines.first { $0.contains(" \(Self.pod1) ") })
        #expect(row.contains(Self.nid1) && row.contains("MOME") && row.contains("Elaborato"), "\(row)")
        let processed = try #require(try spool.esito(tenant: "acme", id: id).first { $0["POD"] == Self.pod1 }?["DATA ELABORAZIONE"])
        #expect(!processed.isEmpty && row.contains(processed))
    }

    // MARK: 7. results_encoding = windows-1252

    @Test func windows1252ResultsReplaceWhatTheCodePageLacks() throws {
        let spool = try Spool(extraConfig: "results_encoding = windows-1252")
        #expect(try spool.ok(["config"]).stdout.contains("results_encoding = windows-1252"))
        try spool.ok(["registry", "import", samplesDirectory + "/registry"])
        try spool.ok(["tenant", "add", "acme", "--name", "Società Elettrica €uro S.r.l."])
        // A file name with a decomposed é (as macOS writes names), a row with a dotless ı and a
        // CJK character (neither in Windows-1252), and a good row.
        let name = "perche\u{301}.csv"
        try "POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\nıt001e00000009;16MOMSPC300000009;Standard\r\nIT001E0000000電;16MOMSPC300000008;Standard\r\n\(Self.pod1);\(Self.sid1);Standard\r\n"
            .write(toFile: spool.incoming("acme") + "/" + name, atomically: false, encoding: .utf8)
        try spool.ok(["serve", "--once"])
        let list = try #require(bytes(spool.results("acme") + "/richieste.csv"))
        let id = try #require(String(decoding: list, as: UTF8.self).components(separatedBy: "\r\n")[1].components(separatedBy: ";").first)
        let esito = try #require(bytes(spool.results("acme") + "/\(id)/esito.csv"))
        // No BOM; the tenant's à as one byte (0xE0), € as 0x80; ı and 電 as ?.
        #expect(Array(esito.prefix(3)) != [0xEF, 0xBB, 0xBF] && esito.starts(with: Array("POD;NID;".utf8)))
        #expect(esito.firstRange(of: Array("Societ".utf8) + [0xE0] + Array(" Elettrica ".utf8) + [0x80] + Array("uro".utf8)) != nil)
        #expect(esito.firstRange(of: Array("\r\n?T001E00000009;".utf8)) != nil)
        #expect(esito.firstRange(of: Array("\r\nIT001E0000000?;".utf8)) != nil)
        // No UTF-8 multi-byte sequence is left anywhere.
        #expect(!esito.contains(0xC3) && !esito.contains(0xE2))
        // richieste.csv: the name's é composed into one byte, 0xE9.
        #expect(list.firstRange(of: Array("perch".utf8) + [0xE9] + Array(".csv".utf8)) != nil, "\(list)")
        // stato.json stays UTF-8 (JSON is UTF-8).
        #expect(try spool.stato(tenant: "acme", id: id)["file"] as? String == name)
        // The operator's CSVs use the same encoding.
        let started = try spool.start(["report", "--tenant", "acme", "--all", "--csv"])
        #expect(spool.finish(started).status == 0)
        let report = try #require(bytes(started.stdout))
        #expect(report.starts(with: Array("POD;SID;".utf8)))
        #expect(report.firstRange(of: Array(";Societ".utf8) + [0xE0]) != nil, "\(report)")
    }
}
