import EthCrypto
import Foundation
import RLP

extension Envelope {
    /// RLP of `[Expiry, TTL, Topic, Data]`: the PoW pre-image without the nonce.
    public var rlpWithoutNonce: [UInt8] {
        let items = rlp[payloadStart..<nonceStart]
        return RLPWriter.listHeader(length: items.count) + items
    }

    /// Proof of work exactly as go-ethereum/status-go compute it (whisper §1.3):
    /// `2^leadingZeroBits(keccak(rlpWithoutNonce ‖ nonceBE)) / len(rlpWithoutNonce) / (TTL + diff)`.
    /// - Parameter diff: the time-skew term of the receive check (§1.5); 0 normally.
    public func proofOfWork(diff: UInt32 = 0) -> Double {
        let pre = rlpWithoutNonce
        var h = Keccak256()
        h.update(pre)
        let bits = Envelope.leadingZeroBits(h, nonce: nonce)
        var x = Double(sign: .plus, exponent: bits, significand: 1)
        x /= Double(pre.count)
        x /= Double(ttl &+ diff)
        return x
    }

    /// Leading zero bits of `keccak(prefix ‖ nonce as 8 bytes big-endian)`.
    static func leadingZeroBits(_ prefix: Keccak256, nonce: UInt64) -> Int {
        var h = prefix
        let be = nonce.bigEndian
        withUnsafeBytes(of: be) { h.update($0) }
        let d = h.finalize()
        var n = 0
        for b in d {
            if b == 0 {
                n += 8
                continue
            }
            n += b.leadingZeroBitCount
            break
        }
        return n
    }

    /// Builds an envelope and searches a nonce as go-ethereum's `Seal` does: target bits =
    /// max(1, ⌈log2(pow × size × TTL)⌉); the first nonce counting from 0 that reaches them.
    /// - Parameter maxIterations: gives up after this many tries (keeping the best nonce found).
    public static func seal<D: Collection>(
        expiry: UInt32,
        ttl: UInt32,
        topic: Topic,
        data: D,
        targetPoW: Double,
        maxIterations: UInt64 = 1 << 32
    ) -> Envelope where D.Element == UInt8 {
        let (items, _) = encodeItems(expiry: expiry, ttl: ttl, topic: topic, data: data)
        var prefix = Keccak256()
        prefix.update(RLPWriter.listHeader(length: items.count))
        prefix.update(items)
        let size = Double(headerLength + data.count)
        let target = targetPoW <= 0 ? 0 : max(1, Int(log2(targetPoW * size * Double(ttl)).rounded(.up)))
        var best: (nonce: UInt64, bits: Int) = (0, -1)
        var nonce: UInt64 = 0
        if targetPoW > 0 {
            while nonce < maxIterations {
                let bits = leadingZeroBits(prefix, nonce: nonce)
                if bits > best.bits { best = (nonce, bits) }
                if bits >= target { break }
                nonce += 1
            }
        } else {
            best = (0, 0)
        }
        return Envelope(expiry: expiry, ttl: ttl, topic: topic, data: data, nonce: best.nonce)
    }
}
