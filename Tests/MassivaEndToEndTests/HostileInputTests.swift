import Foundation
import Glibc
import Testing

/// Issue 8: no input, setting or fault may crash, hang, stall or mislead the engine.
@Suite(.serialized) struct HostileInputTests {
    func writeRegistry(_ directory: String, pods: (inout [String]) -> Void, devices: (inout [String]) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var p = try String(contentsOfFile: samplesDirectory + "/registry/pods.csv", encoding: .utf8).components(separatedBy: "\n")
        var d = try String(contentsOfFile: samplesDirectory + "/registry/devices.csv", encoding: .utf8).components(separatedBy: "\n")
        pods(&p)
        devices(&d)
        try p.joined(separator: "\n").write(toFile: directory + "/pods.csv", atomically: false, encoding: .utf8)
        try d.joined(separator: "\n").write(toFile: directory + "/devices.csv", atomically: false, encoding: .utf8)
    }

    @Test func registryImportRefusesControlCharactersDuplicateNIDsAndSignedCounts() throws {
        let spool = try Spool()
        let bad = spool.root + "/bad-registry"
        try writeRegistry(bad, pods: { p in
            // line 2: a quoted matricola with a line break (the record spans lines 2-3)
            p[1] = "IT001E00000001,506924381,\"00331E9\n0291065\",M1,,true,true,reachable,RTRPBI50B12L219L"
            p[3] = "IT001E00000003,506924383,0033\u{1B}1E9,M1,,true,true,flaky:+3,RTRPBI50B12L219L"
        }, devices: { d in
            d[2] = "16MOMSPC300000002,dc2609c04eba,MOME,acme"   // the NID of line 2, in lower case
            d[3] = "16MOMSPC300000003,DC26D3336C67,MOME\u{7F},acme"
        })
        let r = try spool.run(["registry", "import", bad])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pods.csv:2: matricola: control character"), "\(r.stderr)")
        #expect(r.stderr.contains("pods.csv:5: matricola: control character"), "\(r.stderr)")
        #expect(r.stderr.contains("pods.csv:5: reachability"), "\(r.stderr)")
        #expect(r.stderr.contains("devices.csv:3: nid:") && r.stderr.contains("already on line 2"), "\(r.stderr)")
        #expect(r.stderr.contains("devices.csv:4: device_type: control character"), "\(r.stderr)")
        #expect(try spool.sqlInt("SELECT count(*) FROM pods") == 0)
    }

    /// Master data an older release let in (a line break in a matricola): the row that meets it
    /// is in error, no association is made, and the engine goes on with every other row and file.
    @Test func masterDataThatCannotGoIntoAScriptFailsOnlyItsRow() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let lineFeed = spool.spoolDatabase.dialect(sqlite: "char(10)", postgresql: "chr(10)")
        _ = try spool.sql("UPDATE pods SET matricola = '0033' || \(lineFeed) || '1E90291065' WHERE pod = 'IT001E00000001'")
        try "POD;SID;TIPO\r\nIT001E00000001;16MOMSPC300000001;Standard\r\nIT001E00000002;16MOMSPC300000002;Standard\r\n"
            .write(toFile: spool.incoming("acme") + "/a.csv", atomically: false, encoding: .utf8)
        let first = try spool.run(["serve", "--once"])
        #expect(first.status == 0, "\(first.stderr)")
        let id = try #require(try spool.requestIDs(tenant: "acme", file: "a.csv").first)
        let rows = try spool.esito(tenant: "acme", id: id)
        #expect(rows.map { $0["CODICE"] } == ["REGISTRY_DATA_INVALID", "OK"])
        #expect(rows.first?["ESITO"] == "In errore")
        #expect(rows.first?["DESCRIZIONE"]?.contains("Errore Interno") == true)
        #expect(try spool.sqlInt("SELECT count(*) FROM associations WHERE pod = 'IT001E00000001'") == 0)
        #expect(try spool.zipEntryCount(spool.results("acme") + "/\(id)/scp.zip") == 1)
        // The single association says so and exits with Errore Interno (6), not a crash.
        let single = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000001", "--sid", "16MOMSPC300000003",
                                    "--type", "Standard", "--out", spool.root])
        #expect(single.status == 6, "\(single.stderr)")
        // An association an older release committed with such data: its script is left out,
        // and later files of any tenant are still taken.
        _ = try spool.sql("UPDATE rows SET matricola = 'X' || \(lineFeed) || 'Y' WHERE code = 'OK'; UPDATE requests SET state_version = state_version + 1")
        try "IT001E00000004;16MOMSPC300000004;Standard\r\n".write(toFile: spool.incoming("acme") + "/b.csv", atomically: false, encoding: .utf8)
        let second = try spool.run(["serve", "--once"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try spool.requestIDs(tenant: "acme", file: "b.csv").count == 1)
        #expect(try spool.zipEntryCount(spool.results("acme") + "/\(id)/scp.zip") == 0)
    }

    /// Runs a command, killed after `seconds` (a hang is a failure, not a stuck suite).
    func runBounded(_ spool: Spool, _ arguments: [String], seconds: Double = 10, environment: [String: String] = [:]) throws -> RunResult {
        let started = try spool.start(arguments, environment: environment)
        let deadline = Date().addingTimeInterval(seconds)
        while started.process.isRunning && Date() < deadline { usleep(10_000) }
        let hung = started.process.isRunning
        if hung { kill(started.process.processIdentifier, SIGKILL) }
        var result = spool.finish(started)
        if hung { result.killed = true }
        return result
    }

    /// A FIFO (or a device) where a file is expected blocked `open` for ever: every file the
    /// program reads is opened without blocking and refused unless regular.
    @Test func aFIFOOrADeviceWhereAFileIsExpectedNeverHangs() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let fifo = spool.root + "/fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        let registry = spool.root + "/fifo-registry"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        #expect(mkfifo(registry + "/pods.csv", 0o644) == 0)
        try FileManager.default.copyItem(atPath: samplesDirectory + "/registry/devices.csv", toPath: registry + "/devices.csv")
        let cases: [([String], [String: String], Int32, String)] = [
            (["registry", "import", registry], [:], 1, "pods.csv"),
            (["validate", fifo], [:], 1, "FIFO"),
            (["validate", "/dev/zero"], [:], 1, "dispositivo"),
            (["submit", "--tenant", "acme", fifo], [:], 1, "FIFO"),
            (["config"], ["MASSIVA_CONFIG": fifo], 2, "not a regular file"),
            (["--config", "/dev/zero", "list"], [:], 2, "not a regular file"),
            (["account", "add", "acme", "mrossi", "--name", "Maria Rossi", "--key", fifo], [:], 2, "not a regular file"),
        ]
        for (arguments, environment, status, word) in cases {
            let r = try runBounded(spool, arguments, environment: environment)
            #expect(!r.killed, "\(arguments) hung")
            #expect(r.status == status, "\(arguments): \(r.stdout) \(r.stderr)")
            #expect((r.stdout + r.stderr).contains(word), "\(arguments): \(r.stdout) \(r.stderr)")
        }
    }

    /// A tenant folder whose parts are links is refused and logged, never followed: nothing is
    /// read from or written to where the links point; the other tenants go on.
    @Test func linkedTenantFoldersAreRefusedNotFollowed() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        try spool.ok(["tenant", "add", "gamma", "--name", "Gamma"])
        let outside = spool.root + "/outside"
        for name in ["in", "out", "tenant"] {
            try FileManager.default.createDirectory(atPath: outside + "/" + name, withIntermediateDirectories: true)
        }
        let row = "IT001E00000001;16MOMSPC300000001;Standard\r\n"
        try row.write(toFile: outside + "/in/x.csv", atomically: false, encoding: .utf8)
        // acme: incoming/ is a link to a folder outside the spool holding an upload.
        try FileManager.default.removeItem(atPath: spool.incoming("acme"))
        #expect(symlink(outside + "/in", spool.incoming("acme")) == 0)
        // voltaic: results/ is a link; a file already queued for it must not be written there.
        try "IT001E00000002;16MOMSPC300000021;Standard\r\n".write(toFile: spool.incoming("voltaic") + "/v.csv", atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: spool.results("voltaic"))
        #expect(symlink(outside + "/out", spool.results("voltaic")) == 0)
        // gamma: the tenant folder itself is a link to a look-alike outside.
        try FileManager.default.moveItem(atPath: spool.spool + "/tenants/gamma", toPath: outside + "/tenant/gamma")
        try row.write(toFile: outside + "/tenant/gamma/incoming/g.csv", atomically: false, encoding: .utf8)
        #expect(symlink(outside + "/tenant/gamma", spool.spool + "/tenants/gamma") == 0)

        let r = try spool.run(["serve", "--once"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: outside + "/in/x.csv"))
        #expect(FileManager.default.fileExists(atPath: outside + "/tenant/gamma/incoming/g.csv"))
        #expect(spool.list(outside + "/out").isEmpty)
        #expect(try spool.sqlInt("SELECT count(*) FROM requests WHERE tenant IN ('acme', 'gamma')") == 0)
        for tenant in ["acme", "voltaic", "gamma"] {
            #expect(r.stderr.contains("tenant_folder_refused tenant=\(tenant)"), "\(r.stderr)")
        }
        // Once the folder is real again, the tenant's files are taken.
        try FileManager.default.removeItem(atPath: spool.incoming("acme"))
        try FileManager.default.createDirectory(atPath: spool.incoming("acme"), withIntermediateDirectories: false)
        try row.write(toFile: spool.incoming("acme") + "/y.csv", atomically: false, encoding: .utf8)
        #expect(try spool.run(["serve", "--once"]).status == 0)
        #expect(try spool.requestIDs(tenant: "acme", file: "y.csv").count == 1)
    }

    /// Creates `directory/name` from raw bytes (a name FileManager cannot spell).
    func createRaw(_ directory: String, _ name: [UInt8], content: String?) throws {
        let path = Array(directory.utf8) + [0x2F] + name + [0]
        let made = path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { p -> Bool in
                guard let content else { return mkdir(p.baseAddress!, 0o755) == 0 }
                let fd = open(p.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644)
                guard fd >= 0 else { return false }
                defer { close(fd) }
                let bytes = Array(content.utf8)
                return write(fd, bytes, bytes.count) == bytes.count
            }
        }
        #expect(made)
    }

    /// Every upload becomes exactly one request the SI sees: a name that is not UTF-8 (a
    /// Windows client's Latin-1 "café.csv") is answered with a rejected request under a safe
    /// name, once; upper-case temporary suffixes are never taken; UTF-16 says what to do.
    @Test func everyUploadIsAnsweredOnceWhateverItsName() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let row = "IT001E00000001;16MOMSPC300000001;Standard\r\n"
        try createRaw(spool.incoming("acme"), Array("caf".utf8) + [0xE9] + Array(".csv".utf8), content: row)
        try createRaw(spool.incoming("acme"), Array("cartella".utf8) + [0xFF], content: nil)
        for name in ["a.PART", "b.Tmp", "c.FILEPART", "d.FilePart"] {
            try row.write(toFile: spool.incoming("acme") + "/" + name, atomically: false, encoding: .utf8)
        }
        var utf16 = Data([0xFF, 0xFE])
        utf16.append(row.data(using: .utf16LittleEndian)!)
        try utf16.write(to: URL(fileURLWithPath: spool.incoming("acme") + "/unicode.txt"))

        let r = try spool.run(["serve", "--once"])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try spool.requestList("acme")
        let byName = Dictionary(list.map { ($0[1], $0) }, uniquingKeysWith: { a, _ in a })
        let cafe = try #require(byName["caf%E9.csv"], "\(list)")
        #expect(cafe[6].hasPrefix("Rifiutato"))
        #expect(try spool.stato(tenant: "acme", id: cafe[0])["reason"] as? String ?? "" == FileRejectionText.notUTF8)
        let folder = try #require(byName["cartella%FF"], "\(list)")
        #expect(folder[6].hasPrefix("Rifiutato"))
        let unicode = try #require(byName["unicode.txt"])
        #expect((try spool.stato(tenant: "acme", id: unicode[0])["reason"] as? String)?.contains("UTF-16") == true)
        #expect(list.count == 3, "\(list)")
        #expect(spool.list(spool.incoming("acme")) == ["a.PART", "b.Tmp", "c.FILEPART", "d.FilePart"])
        // Answered once: a second run finds nothing new.
        #expect(try spool.run(["serve", "--once"]).status == 0)
        #expect(try spool.requestList("acme").count == 3)
    }

    /// Peak resident memory (KiB) of `massiva ARGS`, from GNU time; nil without it.
    func peakKiB(_ spool: Spool, _ arguments: [String]) throws -> Int? {
        guard access("/usr/bin/time", X_OK) == 0 else { return nil }
        let out = spool.root + "/time.out"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", "-o", out, massivaBinary] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["MASSIVA_CONFIG": spool.configPath]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: spool.root + "/time.err", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: spool.root + "/time.err")
        try process.run()
        process.waitUntilExit()
        let text = try String(contentsOfFile: out, encoding: .utf8)
        return Int(text.split(separator: "\n").last.map { $0.filter(\.isNumber) } ?? "")
    }

    /// Memory is bounded by configuration, not by input: 120 uploads of 1 MB once cost
    /// 1 MB of memory each in one `serve --once` (all read before one transaction), and a
    /// 1 MB file of short lines about 110 MB to parse.
    @Test func memoryIsBoundedByConfigurationNotInput() throws {
        // A long lease: this measures memory, and the lease keeper's renewal on SQLite can wait
        // behind the engine's back-to-back write transactions for longer than a third of the
        // lease (SQLite's busy handler polls; the engine takes the lock again at once): with
        // `leader_lease_time = 6s` this run stopped fenced every time, on this commit's base too;
        // with the default 15 s, 1 CI run in 3 on a loaded machine. The starvation itself is in
        // the closing note of the ninth session, not fixed yet.
        let spool = try Spool(extraConfig: "max_file_size = 1m\nleader_lease_time = 90s")
        try spool.setUpSamples()
        var line = "IT001E00000001;16MOMSPC300000001;Standard\r\n"
        line = String(repeating: line, count: 1_040_000 / line.utf8.count)
        let upload = Data(line.utf8)
        for i in 0..<120 { try upload.write(to: URL(fileURLWithPath: spool.incoming("acme") + "/u\(i).csv")) }
        guard let serve = try peakKiB(spool, ["serve", "--once"]) else { Issue.record("GNU time (/usr/bin/time) is missing: scripts/ensure-deps --test installs it"); return }
        #expect(try spool.requestList("acme").count == 120,
                "\(String(((try? String(contentsOfFile: spool.root + "/time.err", encoding: .utf8)) ?? "").suffix(1500)))")
        #expect(serve < 90 * 1024, "serve --once peaked at \(serve / 1024) MB")
        let short = spool.root + "/short.csv"
        try Data(repeating: 0x0A, count: 1_000_000).enumerated().map { $0.offset % 2 == 0 ? UInt8(ascii: "a") : $0.element }
            .withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: short)) }
        let validate = try #require(try peakKiB(spool, ["validate", short]))
        #expect(validate < 50 * 1024, "validate peaked at \(validate / 1024) MB")
    }

    /// Command lines that were silently misread: `--config Standard` outside `associate` (the
    /// defaults were used), a group's name alone ("unknown command"), `--config` without a
    /// value (the overview, exit 2 without saying why).
    @Test func commandLinesAreNeverSilentlyMisread() throws {
        let spool = try Spool()
        let list = try spool.run(["list", "--config", "Standard"], useEnvironment: false)
        #expect(list.status == 2)
        #expect(list.stderr.contains("Standard: cannot open"), "\(list.stderr)")
        let tenant = try spool.run(["tenant"])
        #expect(tenant.status == 2)
        #expect(tenant.stderr.contains("massiva tenant add") && !tenant.stderr.contains("unknown command"), "\(tenant.stderr)")
        #expect(try spool.run(["tenant", "--help"]).status == 0)
        let bare = try spool.run(["--config"], useEnvironment: false)
        #expect(bare.status == 2)
        #expect(bare.stderr.contains("missing value for --config") && !bare.stdout.contains("commands:"), "\(bare.stdout) \(bare.stderr)")
        // associate still takes --config Standard as the type, as the portal words it.
        try spool.setUpSamples()
        // A configurator's name goes into the audit trail and associazioni.csv: no control characters.
        let escape = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000001", "--sid", "16MOMSPC300000001",
                                    "--type", "Standard", "--configurator", "Mario\nRossi", "--out", spool.root])
        #expect(escape.status == 2 && escape.stderr.contains("--configurator"), "\(escape.stderr)")
        let associate = try spool.run(["associate", "--tenant", "acme", "--pod", "IT001E00000001", "--sid", "16MOMSPC300000001",
                                       "--config", "Standard", "--out", spool.root])
        #expect(associate.status == 2 || associate.status == 0, "\(associate.stderr)")
        #expect(!associate.stderr.contains("cannot open"), "\(associate.stderr)")
    }

    /// NOME FILE is the whole upload name, however long (a 255-byte name was cut to fit the
    /// claim's prefix), also for a long name that is not UTF-8.
    @Test func longUploadNamesAreShownWhole() throws {
        let spool = try Spool()
        try spool.setUpSamples()
        let row = "IT001E00000001;16MOMSPC300000001;Standard\r\n"
        let long = String(repeating: "r", count: 251) + ".csv"          // 255 bytes, the longest name
        try row.write(toFile: spool.incoming("acme") + "/" + long, atomically: false, encoding: .utf8)
        let accented = String(repeating: "è", count: 120) + ".csv"       // 244 bytes
        try row.write(toFile: spool.incoming("acme") + "/" + accented, atomically: false, encoding: .utf8)
        try createRaw(spool.incoming("acme"), [UInt8](repeating: 0xE8, count: 200) + Array(".csv".utf8), content: row)
        #expect(try spool.run(["serve", "--once"]).status == 0)
        let names = Set(try spool.requestList("acme").map { $0[1] })
        #expect(names.contains(long), "\(names)")
        #expect(names.contains(accented), "\(names)")
        #expect(names.contains(String(repeating: "%E8", count: 200) + ".csv"), "\(names)")
        #expect(spool.list(spool.claim("acme")).isEmpty)
    }
}

enum FileRejectionText {
    static let notUTF8 = "il nome del file contiene caratteri non validi (non UTF-8): rinominare il file usando lettere, cifre, '-' e '_' e caricarlo di nuovo"
}
