import CPrimitives

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
///
/// In C (Sources/CPrimitives/CRC32C.c): the SSE 4.2 crc32 instruction where the CPU has it,
/// three interleaved streams on long buffers, and slice-by-8 tables elsewhere;
/// `CRC32C.checksum(Array("123456789".utf8)) == 0xE3069283`.
public enum CRC32C {
    /// Extends a running CRC (start with 0) over `buffer`.
    public static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return crc }
        return cprim_crc32c_update(crc, base, buffer.count)
    }

    /// The CRC-32C of `bytes`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ update(0, UnsafeRawBufferPointer($0)) }) { return r }
        return Array(bytes).withUnsafeBytes { update(0, $0) }
    }
}
