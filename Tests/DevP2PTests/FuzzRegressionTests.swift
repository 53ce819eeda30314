import DevP2P
import Testing

/// Inputs the fuzz targets (Fuzz/) found in the RLPx layer.
@Suite("Fuzz findings: hostile snappy blocks")
struct FuzzRegressionTests {
    /// A 13-byte block whose header declares 4 MiB (fuzz-snappy: out-of-memory, malloc of 4194335 bytes).
    static let claims4MiB: [UInt8] = [0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF]

    @Test func snappyBlockDeclaringMoreThanItCanHoldIsRefusedBeforeAllocating() throws {
        #expect {
            try Snappy.decompress(Self.claims4MiB, maxLength: 16 << 20)
        } throws: { error in
            "\(error)".contains("more than a 13-byte block can hold")
        }
    }

    @Test func snappyBlockAtTheHighestRatioStillDecompresses() throws {
        // Zeros compress to 64-byte copies of 3 bytes each: as close to the bound as snappy gets.
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let block = Snappy.compress(zeros)
        #expect(block.count * 21 < zeros.count)
        #expect(try Snappy.decompress(block, maxLength: 1 << 20) == zeros)
    }
}
