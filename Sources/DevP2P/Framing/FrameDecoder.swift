import EthCrypto
import NIOCore

/// Opens incoming RLPx frames from a byte stream, checking both MACs before decrypting (rlpx-rlp.md §5.3).
public struct FrameDecoder: Sendable {
    var cipher: AESCTRStream
    var mac: FrameMAC
    /// The frame-size of a header already read and authenticated, whose body is awaited.
    var pendingSize: Int?

    /// The largest frame-size accepted; checked as soon as a header is authenticated.
    public var maxFrameSize: Int

    /// The ingress side of `secrets`.
    public init(secrets: RLPxSecrets, maxFrameSize: Int = FrameEncoder.maxFrameSize) {
        cipher = AESCTRStream(key: secrets.aesSecret)
        mac = FrameMAC(macSecret: secrets.macSecret, initial: secrets.ingressMAC)
        self.maxFrameSize = maxFrameSize
    }

    /// Returns the frame-data (msg-id ‖ msg-data, padding removed) of the next complete frame,
    /// or nil when `buffer` holds too few bytes; consumed bytes are read from `buffer`.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RLPxError) -> [UInt8]? {
        if pendingSize == nil {
            guard buffer.readableBytes >= 32 else { return nil }
            var header = [UInt8](repeating: 0, count: 16)
            let ok: Bool = buffer.withUnsafeReadableBytes { all in
                let ciphertext = UnsafeRawBufferPointer(rebasing: all[0..<16])
                let expected = mac.headerMAC(ciphertext)
                header.withUnsafeMutableBytes { $0.copyMemory(from: ciphertext) }
                return Self.macEqual(expected, UnsafeRawBufferPointer(rebasing: all[16..<32]))
            }
            guard ok else { throw RLPxError(.badHeaderMAC) }
            header.withUnsafeMutableBytes { cipher.apply($0) }
            let size = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
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
        var frameData = [UInt8](repeating: 0, count: padded)
        let ok: Bool = buffer.withUnsafeReadableBytes { all in
            let body = UnsafeRawBufferPointer(rebasing: all[0..<padded])
            let expected = mac.frameMAC(body)
            frameData.withUnsafeMutableBytes { $0.copyMemory(from: body) }
            return Self.macEqual(expected, UnsafeRawBufferPointer(rebasing: all[padded..<(padded + 16)]))
        }
        guard ok else { throw RLPxError(.badFrameMAC) }
        frameData.withUnsafeMutableBytes { cipher.apply($0) }
        frameData.removeLast(padded - size)
        buffer.moveReaderIndex(forwardBy: padded + 16)
        pendingSize = nil
        return frameData
    }

    /// Compares a 16-byte MAC without an early exit (non-generic: this runs for every frame).
    static func macEqual(_ expected: [UInt8], _ received: UnsafeRawBufferPointer) -> Bool {
        guard expected.count == 16, received.count == 16 else { return false }
        var diff: UInt8 = 0
        for i in 0..<16 { diff |= expected[i] ^ received[i] }
        return diff == 0
    }
}
