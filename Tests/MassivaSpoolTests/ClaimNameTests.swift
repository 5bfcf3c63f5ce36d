import Testing
@testable import MassivaSpool

/// The claim name's encoding and decoding, in one type.
@Suite struct ClaimNameTests {
    @Test func aClaimNameCarriesItsTimeSequenceInodeAndName() {
        let claim = ClaimName(now: 1_700_000_000.25, sequence: 26, inode: 0x3e8, name: "richiesta 1.csv", nameIsUTF8: true)
        #expect(claim.rawValue == String(UInt64(1_700_000_000_250_000), radix: 16) + "1a-3e8-richiesta 1.csv")
        #expect(claim.prefix == String(UInt64(1_700_000_000_250_000), radix: 16) + "1a-3e8-")
        #expect(claim.originalName == "richiesta 1.csv" && !claim.isShortened(from: "richiesta 1.csv"))
        #expect(!claim.isNotUTF8 && !claim.mayHaveSidecar)
        // Read back from the folder, it decodes the same.
        let read = ClaimName(claim.rawValue)
        #expect(read == claim && read.originalName == "richiesta 1.csv" && read.prefix == claim.prefix)
    }

    @Test func aNameWithDashesKeepsThemAndANameNotUTF8IsMarked() {
        let claim = ClaimName(now: 1, sequence: 1, inode: 0x3e9, name: "caf%E9-2-b.csv", nameIsUTF8: false)
        #expect(claim.rawValue == "f42401-3e9n-caf%E9-2-b.csv")
        #expect(claim.isNotUTF8 && claim.originalName == "caf%E9-2-b.csv")
        #expect(!ClaimName("f42401-3e9-caf%E9-2-b.csv").isNotUTF8)
        // A name of another form (a hand-made file) is its own original name.
        #expect(ClaimName("lost.csv").originalName == "lost.csv" && ClaimName("lost.csv").prefix == nil)
    }

    @Test func aLongNameIsCutToTheLimitAndItsWholeNameGoesToASidecar() {
        let name = String(repeating: "è", count: 200) + ".csv"  // 404 bytes
        let claim = ClaimName(now: 1_700_000_000, sequence: 1, inode: 7, name: name, nameIsUTF8: true)
        #expect(claim.rawValue.utf8.count <= ClaimName.maxBytes && claim.rawValue.utf8.count > ClaimName.maxBytes - 2)
        #expect(claim.isShortened(from: name) && claim.mayHaveSidecar)
        #expect(name.hasPrefix(claim.originalName))
        let sidecar = try! #require(claim.sidecarName)
        #expect(sidecar == "." + claim.prefix! + "name")
        #expect(ClaimName.isSidecar(sidecar) && !ClaimName.isSidecar(claim.rawValue))
        #expect(ClaimName.prefix(ofSidecar: sidecar) == claim.prefix)
        #expect(ClaimName.prefix(ofSidecar: ".hidden") == nil)
    }
}
