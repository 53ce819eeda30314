import Crypto
import CryptoExtras
import Foundation

/// AES-256-CTR with one continuous keystream (zero IV), as each RLPx direction uses it.
///
/// Every call must cover whole 16-byte blocks (headers and padded bodies are aligned), so the
/// next call starts at a block boundary and the kept 128-bit counter is exact.
struct AESCTRStream: Sendable {
    let key: SymmetricKey
    /// The big-endian 128-bit counter block, as two halves.
    var high: UInt64 = 0
    var low: UInt64 = 0

    init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// Encrypts or decrypts `bytes` in place; `bytes.count` must be a multiple of 16.
    mutating func apply(_ bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count % 16 == 0, "CTR calls must cover whole blocks")
        guard !bytes.isEmpty else { return }
        var iv = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            iv[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            iv[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        // A 16-byte nonce and a 32-byte key are always accepted.
        let out: Data
        do {
            out = try AES._CTR.encrypt(UnsafeRawBufferPointer(bytes), using: key, nonce: AES._CTR.Nonce(nonceBytes: iv))
        } catch {
            preconditionFailure("AES-CTR rejected a 32-byte key: \(error)")
        }
        out.copyBytes(to: bytes)
        let blocks = UInt64(bytes.count / 16)
        let (sum, overflow) = low.addingReportingOverflow(blocks)
        low = sum
        if overflow { high &+= 1 }
    }
}
