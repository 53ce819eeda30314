import Crypto
import CryptoExtras
import Foundation

/// Symmetric primitives Whisper needs: the password KDF and AES-256-GCM.
public enum SymmetricCrypto {
    /// go-ethereum/status-go's iteration count for `AddSymKeyFromPassword` (65356, not 65536).
    public static let passwordIterations = 65356

    /// PBKDF2-HMAC-SHA256(password, salt = "", 65356 iterations, 32 bytes).
    public static func keyFromPassword(_ password: String) -> [UInt8] {
        // A fixed-size output and a nonzero round count cannot fail.
        let key = try! KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8),
            salt: [UInt8](),
            using: .sha256,
            outputByteCount: 32,
            unsafeUncheckedRounds: passwordIterations
        )
        return key.withUnsafeBytes { Array($0) }
    }

    /// AES-256-GCM seal with no associated data: ciphertext ‖ tag(16).
    public static func aesGCMSeal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard key.count == 32 else { throw CryptoError(.invalidSymmetricKey, "AES-256 key must be 32 bytes") }
        do {
            let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce))
            return Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw CryptoError(.invalidLength, "AES-GCM: \(error)")
        }
    }

    /// AES-256-GCM open of ciphertext ‖ tag(16); throws ``CryptoError/Code/authenticationFailed`` on a wrong key.
    public static func aesGCMOpen(_ sealed: ArraySlice<UInt8>, key: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard key.count == 32 else { throw CryptoError(.invalidSymmetricKey, "AES-256 key must be 32 bytes") }
        guard sealed.count >= 16 else { throw CryptoError(.invalidLength, "AES-GCM data shorter than its tag") }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: nonce),
                ciphertext: sealed.dropLast(16),
                tag: sealed.suffix(16)
            )
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: key)))
        } catch {
            throw CryptoError(.authenticationFailed, "AES-GCM tag mismatch (wrong key, or damaged data)")
        }
    }
}
