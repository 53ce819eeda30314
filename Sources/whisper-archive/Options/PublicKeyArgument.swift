import ArgumentParser
import EthCrypto

/// A secp256k1 public key given as hex: 64 bytes (x, y) or 65 bytes (0x04, x, y), a point on the curve.
struct PublicKeyArgument: ExpressibleByArgument, Sendable {
    var key: PublicKey

    init?(argument: String) {
        let k: [UInt8]
        do { k = try Hex.decode(argument) } catch {
            ArgumentFailure.record(value: argument, reason: "a public key is 64 or 65 bytes as hex: \(error.description)")
            return nil
        }
        do { key = try PublicKey(bytes: k) } catch {
            ArgumentFailure.record(
                value: argument,
                reason: "not a secp256k1 public key (64 or 65 bytes, a point on the curve; got \(k.count) bytes): \(error.description)"
            )
            return nil
        }
    }
}
