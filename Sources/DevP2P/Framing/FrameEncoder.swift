import EthCrypto
import NIOCore

/// Seals outgoing RLPx frames: header, header MAC, padded body, frame MAC (rlpx-rlp.md §5).
public struct FrameEncoder: Sendable {
    /// The largest frame-size the 24-bit header field can carry.
    public static let maxFrameSize = 0xFF_FFFF

    var cipher: AESStream
    var mac: FrameMAC

    /// The egress side of `secrets`.
    public init(secrets: RLPxSecrets) {
        cipher = secrets.makeFrameCipher()
        mac = FrameMAC(macSecret: secrets.macSecret, initial: secrets.egressMAC)
    }

    /// Encodes one frame whose frame-data is `msg-id ‖ payload` (snappy-compressed when `compress`).
    public mutating func encode(
        msgID: UInt64,
        payload: UnsafeRawBufferPointer,
        compress: Bool,
        allocator: ByteBufferAllocator
    ) throws(RLPxError) -> ByteBuffer {
        let bodyBound = 9 + (compress ? Snappy.maxCompressedLength(payload.count) : payload.count)
        var buffer = allocator.buffer(capacity: 32 + bodyBound + 15 + 16)
        buffer.writeRepeatingByte(0, count: 32)
        Self.writeMsgID(msgID, to: &buffer)
        if compress {
            Snappy.compress(payload, into: &buffer)
        } else {
            buffer.writeBytes(payload)
        }
        let size = buffer.writerIndex - 32
        guard size <= Self.maxFrameSize else {
            throw RLPxError(.frameTooLarge, "frame of \(size) bytes exceeds the 24-bit size field")
        }
        let padded = (size + 15) & ~15
        buffer.writeRepeatingByte(0, count: padded - size)
        var frameMAC = MAC16(low: 0, high: 0)
        buffer.withUnsafeMutableReadableBytes { all in
            let header = UnsafeMutableRawBufferPointer(rebasing: all[0..<16])
            header[0] = UInt8(truncatingIfNeeded: size >> 16)
            header[1] = UInt8(truncatingIfNeeded: size >> 8)
            header[2] = UInt8(truncatingIfNeeded: size)
            header[3] = 0xC2
            header[4] = 0x80
            header[5] = 0x80
            cipher.apply(header)
            mac.headerMAC(UnsafeRawBufferPointer(header)).write(to: UnsafeMutableRawBufferPointer(rebasing: all[16..<32]))
            let body = UnsafeMutableRawBufferPointer(rebasing: all[32..<(32 + padded)])
            cipher.apply(body)
            frameMAC = mac.frameMAC(UnsafeRawBufferPointer(body))
        }
        buffer.writeInteger(frameMAC.low, endianness: .little)
        buffer.writeInteger(frameMAC.high, endianness: .little)
        return buffer
    }

    /// Encodes one frame from an array payload.
    public mutating func encode(
        msgID: UInt64,
        payload: [UInt8],
        compress: Bool,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(RLPxError) -> ByteBuffer {
        let result = payload.withUnsafeBytes { p in
            Result { () throws(RLPxError) -> ByteBuffer in
                try encode(msgID: msgID, payload: p, compress: compress, allocator: allocator)
            }
        }
        return try result.get()
    }

    /// Writes a message id as an RLP unsigned integer (0 is 0x80).
    static func writeMsgID(_ id: UInt64, to buffer: inout ByteBuffer) {
        if id == 0 {
            buffer.writeInteger(UInt8(0x80))
        } else if id < 0x80 {
            buffer.writeInteger(UInt8(id))
        } else {
            let n = (64 - id.leadingZeroBitCount + 7) / 8
            buffer.writeInteger(UInt8(0x80 + n))
            for i in stride(from: n - 1, through: 0, by: -1) {
                buffer.writeInteger(UInt8(truncatingIfNeeded: id >> (UInt64(i) * 8)))
            }
        }
    }
}
