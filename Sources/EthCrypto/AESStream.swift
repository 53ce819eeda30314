import COpenSSL

/// AES in counter mode with one continuous keystream, or single AES blocks (ECB), on an OpenSSL
/// context whose key schedule is computed once.
///
/// RLPx encrypts each direction as one AES-256-CTR stream and runs one AES-256 block per MAC
/// step; ECIES uses AES-128-CTR. Keeping the context avoids a key schedule per call.
/// A value type: a copy continues the same keystream independently (copy-on-write).
public struct AESStream: Sendable {
    /// The two uses.
    public enum Mode: Sendable {
        /// Counter mode from `iv` (16 bytes, the initial counter block); bytes may be fed in any split.
        case ctr(iv: [UInt8])
        /// Single blocks with no chaining; calls must cover whole 16-byte blocks.
        case ecb
    }

    private var box: Box

    /// A stream with a 16- or 32-byte key (AES-128 or AES-256).
    /// - Throws: ``CryptoError/Code/invalidSymmetricKey`` for another key size,
    ///   ``CryptoError/Code/invalidLength`` for an IV that is not 16 bytes.
    public init(key: [UInt8], mode: Mode) throws(CryptoError) {
        let cipher: OpaquePointer?
        var iv: [UInt8]? = nil
        switch (mode, key.count) {
        case (.ctr(let v), 16):
            cipher = EVP_aes_128_ctr()
            iv = v
        case (.ctr(let v), 32):
            cipher = EVP_aes_256_ctr()
            iv = v
        case (.ecb, 16): cipher = EVP_aes_128_ecb()
        case (.ecb, 32): cipher = EVP_aes_256_ecb()
        default: throw CryptoError(.invalidSymmetricKey, "AES key must be 16 or 32 bytes, not \(key.count)")
        }
        if let iv, iv.count != 16 { throw CryptoError(.invalidLength, "AES-CTR IV must be 16 bytes, not \(iv.count)") }
        guard let ctx = EVP_CIPHER_CTX_new() else { preconditionFailure("EVP_CIPHER_CTX_new failed (out of memory)") }
        let ok = key.withUnsafeBufferPointer { k in
            if let iv {
                return iv.withUnsafeBufferPointer { EVP_EncryptInit_ex(ctx, cipher, nil, k.baseAddress, $0.baseAddress) }
            }
            return EVP_EncryptInit_ex(ctx, cipher, nil, k.baseAddress, nil)
        }
        precondition(ok == 1, "EVP_EncryptInit_ex rejected a valid AES key")
        EVP_CIPHER_CTX_set_padding(ctx, 0)
        box = Box(ctx)
    }

    /// Encrypts (or, the same in counter mode, decrypts) `bytes` in place, continuing the stream.
    /// In ECB mode `bytes.count` must be a multiple of 16.
    public mutating func apply(_ bytes: UnsafeMutableRawBufferPointer) {
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        var left = bytes.count
        while left > 0 {
            let n = min(left, 1 << 30)
            var written: Int32 = 0
            let ok = EVP_EncryptUpdate(box.ctx, p, &written, p, Int32(n))
            precondition(ok == 1 && Int(written) == n, "AES update of \(n) bytes failed (ECB needs whole blocks)")
            p += n
            left -= n
        }
    }

    /// Encrypts `bytes` in place and returns them.
    public mutating func apply(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        out.withUnsafeMutableBytes { apply($0) }
        return out
    }

    /// Owns one `EVP_CIPHER_CTX`.
    private final class Box: @unchecked Sendable {
        // Mutated only through a uniquely referenced box (see `apply`), so sharing a box between
        // copies of the struct is safe.
        let ctx: OpaquePointer

        init(_ ctx: OpaquePointer) { self.ctx = ctx }

        func copy() -> Box {
            guard let c = EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_copy(c, ctx) == 1 else {
                preconditionFailure("EVP_CIPHER_CTX_copy failed (out of memory)")
            }
            return Box(c)
        }

        deinit { EVP_CIPHER_CTX_free(ctx) }
    }
}
