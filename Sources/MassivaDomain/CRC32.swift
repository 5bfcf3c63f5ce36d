// CRC-32 as used by zlib, zip, PNG and Ethernet (IEEE 802.3): reflected polynomial 0xEDB88320,
// initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. Check value: CRC-32("123456789") = 0xCBF43926.
//
// Table-driven, "slicing by 8": eight 256-entry tables let the loop consume eight bytes per
// iteration. The tables are computed once, on first use, and are immutable afterwards.

/// CRC-32 (IEEE 802.3, the zlib/zip one), incremental.
///
///     var crc = CRC32()
///     crc.update(firstPart)
///     crc.update(secondPart)
///     let value = crc.value            // same as CRC32.checksum(firstPart + secondPart)
public struct CRC32: Sendable, Equatable {
    /// The running register, pre-inverted (the value before the final XOR).
    private var register: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// The CRC-32 of everything passed to `update` so far.
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        register = CRC32.advance(register, buffer)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The CRC-32 of a string's UTF-8 bytes.
    public mutating func update(_ string: String) {
        var string = string
        string.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    // MARK: One-shot

    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        advance(0xFFFF_FFFF, buffer) ^ 0xFFFF_FFFF
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The CRC-32 of a string's UTF-8 bytes.
    public static func checksum(_ string: String) -> UInt32 {
        var crc = CRC32()
        crc.update(string)
        return crc.value
    }

    // MARK: The loop

    private static func advance(_ start: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = start
        let count = buffer.count
        guard count > 0, let base = buffer.baseAddress else { return crc }
        let t = crc32Tables
        return t.withUnsafeBufferPointer { table -> UInt32 in
            var index = 0
            // Eight bytes at a time. Loads are unaligned-safe and little-endian by construction.
            while count - index >= 8 {
                let b0 = UInt32(base.load(fromByteOffset: index, as: UInt8.self))
                let b1 = UInt32(base.load(fromByteOffset: index + 1, as: UInt8.self))
                let b2 = UInt32(base.load(fromByteOffset: index + 2, as: UInt8.self))
                let b3 = UInt32(base.load(fromByteOffset: index + 3, as: UInt8.self))
                let one = crc ^ (b0 | b1 << 8 | b2 << 16 | b3 << 24)
                let b4 = Int(base.load(fromByteOffset: index + 4, as: UInt8.self))
                let b5 = Int(base.load(fromByteOffset: index + 5, as: UInt8.self))
                let b6 = Int(base.load(fromByteOffset: index + 6, as: UInt8.self))
                let b7 = Int(base.load(fromByteOffset: index + 7, as: UInt8.self))
                crc = table[7 * 256 + Int(one & 0xFF)]
                    ^ table[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((one >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int(one >> 24)]
                    ^ table[3 * 256 + b4]
                    ^ table[2 * 256 + b5]
                    ^ table[1 * 256 + b6]
                    ^ table[b7]
                index += 8
            }
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
            return crc
        }
    }
}

/// 8 × 256 entries: table k gives the CRC contribution of a byte followed by k zero bytes.
private let crc32Tables: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 {
            c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
        }
        table[n] = c
    }
    for n in 0..<256 {
        var c = table[n]
        for k in 1..<8 {
            c = table[Int(c & 0xFF)] ^ (c >> 8)
            table[k * 256 + n] = c
        }
    }
    return table
}()
