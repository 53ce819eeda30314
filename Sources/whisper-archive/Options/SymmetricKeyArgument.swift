import ArgumentParser
import EthCrypto

/// A 32-byte symmetric key given as 64 hex digits (a 0x prefix is allowed).
struct SymmetricKeyArgument: ExpressibleByArgument, Sendable {
    var bytes: [UInt8]

    init?(argument: String) {
        do {
            let k = try Hex.decode(argument)
            guard k.count == 32 else {
                ArgumentFailure.record(value: argument, reason: "a symmetric key is 32 bytes (64 hex digits), got \(k.count) bytes")
                return nil
            }
            bytes = k
        } catch {
            ArgumentFailure.record(value: argument, reason: "a symmetric key is 32 bytes as 64 hex digits: \(error.description)")
            return nil
        }
    }

    static var defaultValueDescription: String { "64 hex digits" }
}
