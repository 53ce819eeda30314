import ArchiveStore
import ArgumentParser
import EthCrypto
import Foundation
import RLP
import Whisper

/// `whisper-archive bench core`: Keccak-256, CRC32C, envelope decoding, message seal/open.
struct BenchCoreCommand: ParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Keccak-256, envelope decode+hash, and seal/open rates on one core.",
        discussion: """
            Example:
              whisper-archive bench core --runs 7 --json
            """
    )

    @Option(help: "Repetitions of each measurement (the median is reported).")
    var runs = 5

    @OptionGroup var output: BenchOutputOptions

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        var figures = BenchFigures()

        // Keccak-256 over 1 KiB inputs.
        let block = SecureRandom.bytes(1024)
        figures.append("keccak256_1KiB", median(runs) { keccak256MBps(block, rounds: 100_000) }, "MB/s")

        // CRC32C over 64 KiB buffers (every segment block is checksummed on write and read).
        let crcBuffer = SecureRandom.bytes(64 * 1024)
        let crcRounds = 5000
        let crc = median(runs) {
            var sink: UInt32 = 0
            let t = seconds {
                crcBuffer.withUnsafeBytes { bytes in
                    for _ in 0..<crcRounds { sink = CRC32C.update(sink, bytes) }
                }
            }
            blackHole(UInt8(truncatingIfNeeded: sink))
            return Double(crcRounds * crcBuffer.count) / t / 1e6
        }
        figures.append("crc32c_64KiB", crc, "MB/s")

        // Envelope decode + hash of 1 KiB envelopes.
        let envelopes = (0..<1000).map { i in
            Envelope(
                expiry: 1_700_000_050 + UInt32(i),
                ttl: 50,
                topic: Topic(rawValue: UInt32(i)),
                data: SecureRandom.bytes(1024 - 24),
                nonce: UInt64(i)
            ).rlp
        }
        let decodeRounds = 200
        let decode = median(runs) {
            var sink = 0
            let t = seconds {
                for _ in 0..<decodeRounds {
                    for raw in envelopes {
                        if let e = try? Envelope(rlp: raw) { sink &+= Int(e.hash[0]) }
                    }
                }
            }
            blackHole(UInt8(truncatingIfNeeded: sink))
            return Double(decodeRounds * envelopes.count) / t
        }
        figures.append("envelope_decode_hash_1KiB", decode, "envelopes/s")

        // Seal (no PoW) and open, symmetric and asymmetric, 1 KiB payloads.
        let payload = SecureRandom.bytes(1024)
        let symKey = SecureRandom.bytes(32)
        let recipient = PrivateKey.generate()
        let signer = PrivateKey.generate()
        let topic = Topic(rawValue: 0x0102_0304)
        for (name, sealKey, openKey) in [
            ("symmetric", SealingKey.symmetric(symKey), OpeningKey.symmetric(symKey)),
            ("asymmetric", SealingKey.asymmetric(recipient.publicKey), OpeningKey.asymmetric(recipient)),
        ] {
            let n = name == "symmetric" ? 5000 : 1000
            var sealed: [Envelope] = []
            let seal = median(runs) {
                sealed.removeAll(keepingCapacity: true)
                let t = seconds {
                    for _ in 0..<n {
                        if let e = try? Envelope.seal(payload: payload, topic: topic, key: sealKey, signer: signer, targetPoW: 0) {
                            sealed.append(e)
                        }
                    }
                }
                return Double(n) / t
            }
            let open = median(runs) {
                var ok = 0
                let t = seconds { for e in sealed where (try? e.open(with: openKey)) != nil { ok += 1 } }
                precondition(ok == sealed.count, "every sealed message must open")
                return Double(sealed.count) / t
            }
            figures.append("seal_\(name)_signed_1KiB", seal, "messages/s")
            figures.append("open_\(name)_signed_1KiB", open, "messages/s")
        }

        if output.json {
            print(figures.json(BenchFigures.whole, extra: ["runs": runs]))
        } else {
            print("figure                            median       unit   (\(runs) runs)")
            for line in figures.table(nameWidth: 32, { BenchFigures.whole($0, width: 12) }) { print(line) }
        }
    }
}
