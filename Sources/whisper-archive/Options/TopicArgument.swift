import ArgumentParser
import EthCrypto
import Whisper

/// A 4-byte topic given as 8 hex digits (a 0x prefix is allowed).
struct TopicArgument: ExpressibleByArgument, Sendable {
    var topic: Topic

    init?(argument: String) {
        do { topic = try Topic(hex: argument) } catch {
            ArgumentFailure.record(
                value: argument,
                reason: "a topic is 4 bytes as 8 hex digits (f26e7779 or 0xf26e7779): "
                    + Self.problem(argument)
            )
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
