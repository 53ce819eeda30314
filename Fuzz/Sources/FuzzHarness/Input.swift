/// The fuzzer's bytes, consumed from the front: control values first, then the rest as data.
public struct FuzzInput {
    /// The bytes not yet consumed.
    public private(set) var bytes: ArraySlice<UInt8>

    /// Wraps one libFuzzer input.
    public init(_ data: UnsafeRawBufferPointer) { bytes = ArraySlice(data) }

    /// Wraps an array (regression tests, seed generation).
    public init(_ data: [UInt8]) { bytes = data[...] }

    /// True when every byte is consumed.
    public var isEmpty: Bool { bytes.isEmpty }

    /// The next byte, or 0 when the input is exhausted.
    public mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

    /// The next two bytes as a big-endian number (0 past the end).
    public mutating func uint16() -> Int { Int(byte()) << 8 | Int(byte()) }

    /// Up to `count` next bytes.
    public mutating func take(_ count: Int) -> [UInt8] {
        let n = min(max(count, 0), bytes.count)
        let out = Array(bytes.prefix(n))
        bytes.removeFirst(n)
        return out
    }

    /// Everything not yet consumed.
    public mutating func rest() -> [UInt8] { take(bytes.count) }
}
