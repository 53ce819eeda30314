import EthCrypto
import NIOCore

/// Opens incoming RLPx frames from a byte stream, checking both MACs before decrypting (rlpx-rlp.md §5.3).
public struct FrameDecoder: Sendable {
    var cipher: AESStream
    var mac: FrameMAC
    /// The frame-size of a header already read and authenticated, whose body is awaited.
    var pendingSize: Int?

    /// The largest frame-size accepted; checked as soon as a header is authenticated.
    public var maxFrameSize: Int

    /// The ingress side of `secrets`.
    public init(secrets: RLPxSecrets, maxFrameSize: Int = FrameEncoder.maxFrameSize) {
        cipher = secrets.makeFrameCipher()
        mac = FrameMAC(macSecret: secrets.macSecret, initial: secrets.ingressMAC)
        self.maxFrameSize = maxFrameSize
    }

    /// Returns the frame-data (msg-id ‖ msg-data, padding removed) of the next complete frame,
    /// or nil when `buffer` holds too few bytes; consumed bytes are read from `buffer`.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RLPxError) -> [UInt8]? {
        if pendingSize == nil {
            guard buffer.readableBytes >= 32 else { return nil }
            var header = MAC16(low: 0, high: 0)
            let ok: Bool = buffer.withUnsafeReadableBytes { all in
                let ciphertext = UnsafeRawBufferPointer(rebasing: all[0..<16])
                header = MAC16(ciphertext)
                return mac.headerMAC(ciphertext).matches(UnsafeRawBufferPointer(rebasing: all[16..<32]))
            }
            guard ok else { throw RLPxError(.badHeaderMAC) }
            let size = withUnsafeMutableBytes(of: &header) { h in
                cipher.apply(h)
                return Int(h[0]) << 16 | Int(h[1]) << 8 | Int(h[2])
            }
            guard size <= maxFrameSize else {
                throw RLPxError(.frameTooLarge, "frame of \(size) bytes exceeds the limit of \(maxFrameSize)")
            }
            guard size > 0 else { throw RLPxError(.invalidMessage, "empty frame") }
            buffer.moveReaderIndex(forwardBy: 32)
            pendingSize = size
        }
        guard let size = pendingSize else { return nil }
        let padded = (size + 15) & ~15
        guard buffer.readableBytes >= padded + 16 else { return nil }
        let ok: Bool = buffer.withUnsafeReadableBytes { all in
            mac.frameMAC(UnsafeRawBufferPointer(rebasing: all[0..<padded]))
                .matches(UnsafeRawBufferPointer(rebasing: all[padded..<(padded + 16)]))
        }
        guard ok else { throw RLPxError(.badFrameMAC) }
        // The padding is decrypted too (the keystream runs over it), then left out of the result.
        let frameData = [UInt8](unsafeUninitializedCapacity: padded) { out, count in
            buffer.withUnsafeReadableBytes { all in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: all[0..<padded]))
            }
            cipher.apply(UnsafeMutableRawBufferPointer(out))
            count = size
        }
        buffer.moveReaderIndex(forwardBy: padded + 16)
        pendingSize = nil
        return frameData
    }
}
