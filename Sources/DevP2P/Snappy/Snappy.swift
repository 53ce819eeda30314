import CSnappy
import NIOCore

/// Snappy block format (not the framing format), as EIP-706 uses it, on Debian's libsnappy.
public enum Snappy {
    /// The largest compressed size of `count` input bytes.
    public static func maxCompressedLength(_ count: Int) -> Int {
        snappy_max_compressed_length(count)
    }

    /// Compresses `input` and returns the block.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: maxCompressedLength(input.count))
        input.withUnsafeBytes { compress($0, into: &buffer) }
        return Array(buffer.readableBytesView)
    }

    /// Compresses `input` and appends the block to `buffer`.
    public static func compress(_ input: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        guard let source = input.baseAddress, input.count > 0 else {
            buffer.writeInteger(UInt8(0))  // the empty block
            return
        }
        let bound = maxCompressedLength(input.count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            var length = out.count
            let status = snappy_compress(
                source.assumingMemoryBound(to: CChar.self),
                input.count,
                out.baseAddress?.assumingMemoryBound(to: CChar.self),
                &length
            )
            // The output buffer is at least snappy_max_compressed_length bytes, so this cannot fail.
            precondition(status == SNAPPY_OK, "snappy_compress failed with a sufficient buffer")
            return length
        }
    }

    /// The most output bytes one compressed byte can stand for (rounded up from 64/3).
    static let maxExpansion = 22

    /// Reads the uncompressed length from a block's varint header (at most 2^32 − 1).
    public static func decodedLength(_ input: UnsafeRawBufferPointer) throws(RLPxError) -> Int {
        var value: UInt64 = 0
        for i in 0..<min(5, input.count) {
            let b = input[i]
            value |= UInt64(b & 0x7F) << (7 * UInt64(i))
            if b & 0x80 == 0 {
                guard value <= UInt64(UInt32.max) else { break }
                return Int(value)
            }
        }
        throw RLPxError(.invalidMessage, "snappy: bad length header")
    }

    /// Decompresses a block whose declared length is at most `maxLength`; the length is checked before allocating.
    public static func decompress(_ input: UnsafeRawBufferPointer, maxLength: Int) throws(RLPxError) -> [UInt8] {
        let length = try decodedLength(input)
        guard length <= maxLength else {
            throw RLPxError(.messageTooLarge, "snappy: decoded length \(length) exceeds the limit of \(maxLength)")
        }
        // The declared length is untrusted: no snappy element yields more than 64 bytes from 3 (a 2-byte-offset
        // copy), so a block decodes to at most 22 times its size, and a larger claim is refused before allocating.
        guard length / maxExpansion <= input.count else {
            throw RLPxError(.invalidMessage, "snappy: decoded length \(length) is more than a \(input.count)-byte block can hold")
        }
        if length == 0 {
            // A valid empty block is exactly the one byte 0x00.
            guard input.count == 1 else { throw RLPxError(.invalidMessage, "snappy: trailing data after an empty block") }
            return []
        }
        var status = SNAPPY_OK
        let out = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
            var produced = length
            status = snappy_uncompress(
                input.baseAddress?.assumingMemoryBound(to: CChar.self),
                input.count,
                UnsafeMutableRawPointer(out.baseAddress)?.assumingMemoryBound(to: CChar.self),
                &produced
            )
            if status == SNAPPY_OK && produced == length {
                initialized = length
            } else {
                status = status == SNAPPY_OK ? SNAPPY_INVALID_INPUT : status
                out.initialize(repeating: 0)
                initialized = length
            }
        }
        guard status == SNAPPY_OK else { throw RLPxError(.invalidMessage, "snappy: corrupt block") }
        return out
    }

    /// Decompresses `input` (convenience for arrays).
    public static func decompress(_ input: [UInt8], maxLength: Int) throws(RLPxError) -> [UInt8] {
        let result = input.withUnsafeBytes { p in
            Result { () throws(RLPxError) -> [UInt8] in try decompress(p, maxLength: maxLength) }
        }
        return try result.get()
    }
}
