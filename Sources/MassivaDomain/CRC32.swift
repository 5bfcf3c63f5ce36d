import CZlib

/// CRC-32 (IEEE 802.3, the zlib/zip one), incremental: zlib's `crc32`, already linked through
/// libzip, instead of a table of our own. Check value: CRC-32("123456789") = 0xCBF43926.
///
///     var crc = CRC32()
///     crc.update(firstPart)
///     crc.update(secondPart)
///     let value = crc.value            // same as CRC32.checksum(firstPart + secondPart)
public struct CRC32: Sendable, Equatable {
    /// zlib's running value (already finalized: zlib takes it back as is).
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        // zlib's length is a uInt: feed it in pieces below 4 GiB.
        var rest = buffer
        while !rest.isEmpty {
            let count = min(rest.count, Int(UInt32.max))
            let base = rest.baseAddress!.assumingMemoryBound(to: Bytef.self)
            value = UInt32(crc32(uLong(value), base, uInt(count)))
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
        }
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
        var crc = CRC32()
        crc.update(buffer)
        return crc.value
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
}
