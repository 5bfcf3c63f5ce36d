import Foundation
import MassivaCLI
import MassivaConfig
import MassivaDatabase
import MassivaProcessing
@testable import MassivaServices
import MassivaSystem
import Testing

/// Failures that once passed for something else now say what they are.
@Suite struct LoudFailureTests {
    /// A tenant that cannot be read (a damaged or busy database) used to pass for a tenant
    /// without `probe_command`: check 15 then asked the registry's own probe instead.
    @Test func aTenantThatCannotBeReadIsNotTakenForNoProbeCommand() throws {
        let f = try Fixture()
        let template = try CommandTemplate.parse("/bin/true {pod}", placeholders: CommandTemplate.probePlaceholders).get()
        let advance = ProbeInAdvance(probe: CommandProbe(template: template, timeout: 5, log: EventLog(sink: { _ in })), store: f.store)
        let enabled = advance.prepare(tenant: Fixture.acme) { (nil, "") }
        #expect(try enabled.get() != nil)
        #expect(try advance.prepare(tenant: Fixture.gamma) { (nil, "") }.get() == nil)   // disabled: refused before check 15
        #expect(try advance.prepare(tenant: "nobody") { (nil, "") }.get() == nil)        // unknown: likewise
        try f.store.database.run("ALTER TABLE tenants RENAME TO tenants_elsewhere")
        let unreadable = advance.prepare(tenant: Fixture.acme) { (nil, "") }
        #expect(throws: DatabaseError.self) { try unreadable.get() }
    }

    /// A failure the audit trail cannot record is still the failure reported, and says that
    /// its entry is missing.
    @Test func aFailureTheAuditTrailCannotRecordSaysSo() throws {
        let f = try Fixture()
        try f.store.database.run("CREATE TRIGGER audit_refused BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'audit refused'); END")
        let r = f.run("search", Fixture.standard, "--tenant", "acme", "--configurator", "m")
        #expect(r.status == 7, "\(r.err)")
        #expect(r.err.hasPrefix("massiva search: Errore Generico contattare l'assistenza ("), "\(r.err)")
        #expect(r.err.contains("audit refused") && r.err.contains("; not recorded in the audit trail: "), "\(r.err)")
        #expect(try f.auditEntries().isEmpty)
    }

    /// An output folder that cannot be looked at says why, not that it is no folder.
    @Test func anOutputFolderThatCannotBeLookedAtSaysWhy() throws {
        let f = try Fixture()
        let loop = f.root + "/loop"
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: "loop")
        let r = f.run("associate", "--tenant", "acme", "--pod", Fixture.standard, "--sid", Fixture.sid1, "--type", "Standard",
                      "--configurator", "m", "--out", loop)
        #expect(r.status == 2)
        #expect(r.err == "massiva associate: \(loop): \(Errno(rawValue: ELOOP)) (where the SCP file is written)\n")
        #expect(f.associationCount == 0)
        #expect(try f.auditEntries().last?.outcome == "INVALID_OUTPUT")
    }
}
