@testable import MassivaCSV

/// Reads `text` (as UTF-8 bytes) with `CSVReader`.
func read(_ text: String, delimiter: CSVDelimiter? = nil) throws(CSVError) -> CSVDocument {
    try CSVReader.read(Array(text.utf8), delimiter: delimiter)
}

/// The ASCII bytes of `text` with `extra` bytes spliced in where `text` has `|`.
/// `bytes("caff|", 0xE8)` is `caff` followed by the single byte 0xE8.
func bytes(_ text: String, _ extra: UInt8...) -> [UInt8] {
    var result: [UInt8] = []
    var pending = extra[...]
    for byte in text.utf8 {
        if byte == UInt8(ascii: "|"), let next = pending.popFirst() {
            result.append(next)
        } else {
            result.append(byte)
        }
    }
    return result
}

extension CSVDocument {
    /// The cells of every record.
    var rows: [[String]] { records.map(\.cells) }
    /// The starting line of every record.
    var lines: [Int] { records.map(\.line) }
}

/// A small deterministic generator (SplitMix64), so fuzz failures can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
