import ArgumentParser
import EthCrypto
import Whisper

/// A 4-byte topic given as 8 hex digits (a 0x prefix is allowed).
struct TopicArgument: ExpressibleByArgument, Sendable {
    var topic: Topic

    init?(argument: String) {
        do { topic = try Topic(hex: argument) } catch {
            ArgumentFailure.record(value: argument, reason: "a topic is 4 bytes as 8 hex digits (f26e7779 or 0xf26e7779): "
                                   + Self.problem(argument))
            return nil
        }
    }

    private static func problem(_ text: String) -> String {
        do {
            let bytes = try Hex.decode(text)
            return "got \(bytes.count) bytes"
        } catch {
            return error.description
        }
    }
}

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
            ArgumentFailure.record(value: argument, reason: "not a secp256k1 public key (64 or 65 bytes, a point on the curve; got \(k.count) bytes): \(error.description)")
            return nil
        }
    }
}
