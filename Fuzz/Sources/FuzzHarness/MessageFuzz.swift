import EthCrypto
import Whisper

/// `Message.open` with a symmetric and with a private key, and the plaintext layout under them.
///
/// Garbage ciphertext almost never passes AES-GCM's tag or ECIES's MAC, so besides opening the input as it is,
/// the harness seals the input itself as a plaintext under a fixed key and opens that: the fuzzer then reaches
/// the flags byte, the size field, the payload, the padding and the signature of ``Message/init(plaintext:)``.
public enum MessageFuzz {
    static let symmetricKey = [UInt8](repeating: 0x5A, count: 32)
    static let privateKey = try! PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [0x2A])
    static let nonce = [UInt8](repeating: 0x01, count: 12)
    static let ephemeral = try! PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [0x07])
    static let iv = [UInt8](repeating: 0x02, count: 16)

    /// One input: the first byte picks the mode (low two bits), the rest is ciphertext or plaintext.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let mode = input.byte() & 3
        let body = input.rest()
        switch mode {
        case 0:
            _ = try? Message.open(body, with: .symmetric(symmetricKey))
        case 1:
            _ = try? Message.open(body, with: .asymmetric(privateKey))
        case 2:
            guard let sealed = try? Message.encrypt(body, with: .symmetric(symmetricKey), aesNonce: nonce) else {
                preconditionFailure("AES-GCM sealing failed")
            }
            let opened = try? Message.open(sealed, with: .symmetric(symmetricKey))
            precondition(opened == (try? Message(plaintext: body)), "opening disagrees with parsing the plaintext")
        default:
            guard
                let sealed = try? Message.encrypt(
                    body,
                    with: .asymmetric(privateKey.publicKey),
                    eciesEphemeral: ephemeral,
                    eciesIV: iv
                )
            else {
                preconditionFailure("ECIES sealing failed")
            }
            let opened = try? Message.open(sealed, with: .asymmetric(privateKey))
            precondition(opened == (try? Message(plaintext: body)), "opening disagrees with parsing the plaintext")
        }
    }
}
