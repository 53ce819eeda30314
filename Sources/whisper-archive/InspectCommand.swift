import ArchiveFormats
import ArgumentParser
import EthCrypto
import Foundation
import RLP
import Whisper

/// `whisper-archive inspect`: decode envelopes and, with a key, open their messages.
struct InspectCommand: ParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode envelopes and open their messages.",
        discussion: """
            Decodes one envelope given as the hex of its RLP, or every envelope in a file of \
            concatenated RLP envelopes (or one RLP list of envelopes, as in a 0x7f packet). \
            Prints hash, expiry, TTL, sent time, topic, bloom, size, nonce and proof of work. \
            With a key it opens the message: payload, padding length and signer.

            Examples:
              whisper-archive inspect d1845f5e10323284f26e777984deadbeef80
              whisper-archive inspect --file Samples/envelopes.rlp --password status-offline-inbox --json
            """
    )

    @Argument(help: "An envelope's RLP as hex.")
    var hex: String?

    @Option(help: "A file of concatenated envelope RLPs.", completion: .file())
    var file: String?

    @OptionGroup var keys: OpeningKeyOptions

    @Flag(help: "Print one JSON object per envelope.")
    var json = false

    func validate() throws {
        if (hex == nil) == (file == nil) { throw ValidationError("give either an envelope as hex or --file PATH") }
    }

    func run() throws {
        let key = try keys.openingKey()
        if let hex {
            let bytes = try CLIError.parseHex(hex, what: "envelope hex")
            let envelope: Envelope
            do { envelope = try Envelope(rlp: bytes) } catch {
                throw CLIError("envelope: \(error.detail)" + (error.offset.map { " at byte \($0)" } ?? ""))
            }
            print(render(envelope, index: 0, key: key))
            return
        }
        var source: RLPStreamSource
        do { source = try RLPStreamSource(path: file!) } catch {
            throw CLIError(error.headline != nil ? error.description : "cannot read \(file!): \(error.detail)")
        }
        var index = 0
        var invalid = 0
        var firstError: FormatError?
        while true {
            let item: SourceItem?
            do { item = try source.next() } catch { throw CLIError(error.description) }
            guard let item else { break }
            switch item {
            case .envelope(let envelope, _):
                print(render(envelope, index: index, key: key))
                index += 1
            case .invalid(let error):
                LogLine.cli.error("\(error.description)")
                firstError = firstError ?? error
                invalid += 1
            }
        }
        if let firstError { throw CLIError("\(invalid) invalid record(s) in \(file!); the first: \(firstError.description)") }
        if index == 0 { throw CLIError("\(file!): no envelope found (empty input)") }
    }

    func render(_ e: Envelope, index: Int, key: OpeningKey?) -> String {
        var opened: Result<Message, WhisperError>?
        if let key { opened = Result { () throws(WhisperError) -> Message in try e.open(with: key) } }
        if json {
            var extra: [(String, EnvelopeJSON.Value)] = []
            switch opened {
            case .success(let m)?:
                extra.append(("payload", .string("0x" + m.payload.hex)))
                extra.append(("padding", .number(String(m.padding.count))))
                extra.append(("signer", m.signer.map { .string("0x" + $0.bytes.hex) } ?? .null))
            case .failure(let error)?:
                extra.append(("error", .string(error.detail)))
            case nil: break
            }
            return EnvelopeJSON.encode(e, extra: extra)
        }
        var lines = [
            "envelope \(index) (\(e.rlp.count) bytes of RLP)",
            "  hash     0x\(e.hash.hex)",
            "  expiry   \(e.expiry) (\(TimeFormat.iso8601(e.expiry)))",
            "  ttl      \(e.ttl) s",
            "  sent     \(TimeFormat.iso8601(e.sentTime)) (\(e.sentTime))",
            "  topic    0x\(e.topic.bytes.hex)",
            "  bloom    0x\(e.bloom.bytes.hex)",
            "  size     \(e.size) bytes (data \(e.data.count))",
            "  nonce    \(e.nonce)",
            "  pow      \(e.proofOfWork())",
        ]
        switch opened {
        case .success(let m)?:
            var payload = "  payload  0x\(m.payload.hex)"
            if let text = printableText(m.payload) { payload += " \"\(text)\"" }
            lines.append(payload)
            lines.append("  padding  \(m.padding.count) bytes")
            lines.append("  signed   " + (m.signer.map { "yes, signer 0x\($0.bytes.hex)" } ?? "no"))
        case .failure(let error)?:
            lines.append("  message  not opened: \(error.detail)")
        case nil: break
        }
        return lines.joined(separator: "\n")
    }

    func printableText(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty, let s = String(validating: bytes, as: UTF8.self),
            s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F || $0 == "\n" || $0 == "\t" })
        else { return nil }
        return s
    }
}
