import Testing
import MassivaDomain

/// SHA-256 against FIPS 180-4's examples and NIST's byte-oriented vectors.
@Suite struct SHA256Tests {
    func hex(_ text: String) -> String { SHA256.hex(SHA256.hash(Array(text.utf8))) }

    @Test func theStandardsVectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(SHA256.hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the block and padding boundaries (55, 56, 63, 64 bytes...), fed whole
    /// and in uneven pieces: the same digest either way, and different for each length.
    @Test func piecesGiveTheSameDigestAsTheWhole() {
        var seen = Set<String>()
        for count in 0..<200 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let whole = SHA256.hash(bytes)
            #expect(whole.count == 32)
            var hasher = SHA256()
            var index = 0
            var piece = 1
            while index < bytes.count {
                let end = min(bytes.count, index + piece)
                hasher.update(Array(bytes[index..<end]))
                index = end
                piece = piece % 70 + 13
            }
            #expect(hasher.finish() == whole, "\(count) bytes")
            seen.insert(SHA256.hex(whole))
        }
        #expect(seen.count == 200)
        // The 55- and 56-byte edges (one block, or a second one for the length), as sha256sum prints them.
        #expect(hex(String(repeating: "a", count: 55)) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(hex(String(repeating: "a", count: 56)) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
    }

    /// One changed byte anywhere gives another digest (the duplicate check's promise).
    @Test func oneByteChangesTheDigest() {
        let base = Array("POD;Identificativo MOME/Smart INFO;Tipo Configurazione\r\nIT001E00000001;16MOMSPC300000001;Standard\r\n".utf8)
        let digest = SHA256.hash(base)
        for i in base.indices {
            var changed = base
            changed[i] ^= 1
            #expect(SHA256.hash(changed) != digest)
        }
    }
}
