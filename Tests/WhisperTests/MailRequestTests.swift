import EthCrypto
import TestSupport
import Testing
import Whisper

private func section(_ name: String) throws -> [String: Any] { try Vectors.object("whisper.json").object(name) }

@Suite("Mailserver requests, completions, status packets")
struct MailRequestTests {
    static let dialects: [String: MailRequest.Dialect] = [
        "rlp7-status-go-2020": .rlp7, "rlp6-status-go-2019": .rlp6, "rlp5-spec": .rlp5,
        "rlp6-topics-last-8-WAKU-MAIL": .topicsLast, "legacy-binary": .legacy,
        "direct-whisper-MessagesRequest-6": .directWhisper, "direct-waku-MessagesRequest-7": .directWaku,
    ]

    @Test func everyRequestPayloadDialect() throws {
        let cases = try section("request_payloads").objects("cases")
        #expect(cases.count == 14)
        for c in cases {
            let name = try c.string("name")
            let payload = try c.hex("payload")
            let dialect = try #require(Self.dialects[try c.string("dialect")], "\(name)")
            let r =
                dialect == .directWhisper || dialect == .directWaku
                ? try MailRequest.decodeDirect(payload) : try MailRequest.decodePayload(payload)
            let d = try c.object("decoded")
            #expect(r.dialect == dialect, "\(name)")
            #expect(r.lower == UInt32(try d.uint64("lower")), "\(name)")
            #expect(r.upper == UInt32(try d.uint64("upper")), "\(name)")
            #expect(r.bloom.hex == (try d.string("bloom")), "\(name)")
            #expect(r.limit == UInt32(try d.uint64("limit")), "\(name)")
            #expect(r.cursor.hex == (try d.string("cursor")), "\(name)")
            #expect(r.batch == (d["batch"] as? Bool), "\(name)")
            #expect(r.topics?.map(\.bytes.hex) == (d["topics"] as? [String]), "\(name)")
            if let id = c["request_id"] as? String { #expect(r.directRequestID?.hex == id, "\(name)") }
            // Re-encoding in the same dialect gives the same bytes.
            #expect(r.encoded() == payload, "\(name)")
        }
    }

    @Test func legacyUndersizedPayloadsAreRejected() {
        #expect(throws: WhisperError.self) { try MailRequest.decodeLegacy([1, 2, 3, 4, 5, 6, 7]) }
        #expect(throws: WhisperError.self) { try MailRequest.decodeLegacy([UInt8](repeating: 1, count: 40)) }
    }

    @Test func requestEnvelopesOpenWithPasswordAndNodeKey() throws {
        for c in try section("request_envelopes").objects("cases") {
            let envelope = try Envelope(rlp: try c.object("shh_packet").hex("payload"))
            #expect(envelope.hash.hex == (try c.string("request_id")))
            let key: OpeningKey =
                try c.string("encryption") == "symmetric"
                ? .password(try c.string("password"))
                : .asymmetric(try PrivateKey(bytes: try c.hex("mailserver_node_private_key")))
            let message = try envelope.open(with: key)
            #expect(message.payload == (try c.hex("request_payload")))
            #expect(message.signer?.bytes.hex == (try c.string("recovered_signer_public_key")))
            let request = try MailRequest.decodePayload(message.payload)
            let d = try c.object("decoded_request")
            #expect(request.limit == UInt32(try d.uint64("limit")))
            #expect(request.cursor.hex == (try d.string("cursor")))
        }
    }

    @Test func completionPayloads() throws {
        let cases = try section("completion_0x7d").objects("cases")
        #expect(cases.count == 5)
        for c in cases {
            let payload = try c.hex("packet_payload")
            let completion = try RequestCompletion(payload: payload)
            let d = try c.object("decoded")
            #expect(completion.requestID.hex == (try d.string("request_id")))
            #expect(completion.encoded == payload)
            switch completion {
            case .success(_, let last, let cursor):
                #expect(last.hex == (try d.string("last_envelope_hash")))
                #expect((cursor?.bytes.hex ?? "") == (try d.string("cursor")))
            case .failure(_, let message):
                #expect(message == (try d.string("error")))
            }
        }
        #expect(throws: WhisperError.self) { try RequestCompletion(payload: [0x83, 1, 2, 3]) }
    }

    @Test func statusPackets() throws {
        let s = try section("status_packets")
        for f in try s.objects("float64_bits") {
            #expect(String(format16: (try f.double("value")).bitPattern) == (try f.string("float64_bits")))
        }
        for c in try s.objects("cases") {
            let payload = try c.hex("payload")
            let d = try c.object("decoded")
            if try c.string("protocol") == "waku/1" {
                let status = try WakuStatus(payload: payload)
                #expect(status.pow == (try d.double("pow")))
                #expect(status.lightNode == (d["light_node"] as? Bool))
                #expect(status.confirmationsEnabled == (d["confirmations_enabled"] as? Bool))
                #expect(status.bloom?.bytes.hex == (d["bloom"] as? String))
                #expect(status.topicInterest?.map(\.bytes.hex) == (d["topic_interest"] as? [String]))
                #expect(status.encoded == payload)
            } else {
                let status = try WhisperStatus(payload: payload)
                #expect(status.pow == (try d.double("pow")))
                #expect(status.bloom.bytes.hex == (try d.string("bloom")))
                #expect(status.lightNode == (d["light_node"] as? Bool))
                #expect(status.confirmationsEnabled == (d["confirmations_enabled"] as? Bool))
                #expect(status.encoded == payload)
            }
        }
    }

    @Test func statusRejectsBadPoWAndVersion() throws {
        var s = WhisperStatus(pow: 0.2)
        s.pow = -1
        #expect(throws: WhisperError.self) { try WhisperStatus(payload: s.encoded) }
        s.pow = .nan
        #expect(throws: WhisperError.self) { try WhisperStatus(payload: s.encoded) }
        #expect(throws: WhisperError.self) { try WhisperStatus(payload: [0xC1, 0x05]) }
    }

    @Test func wakuStatusSkipsUnknownKeysWithoutLosingLaterOptions() throws {
        // [[9, [1, 2]], [2, true]]: an unknown key with a list value, then light node.
        let payload: [UInt8] = [0xC8, 0xC4, 0x09, 0xC2, 0x01, 0x02, 0xC2, 0x02, 0x01]
        let status = try WakuStatus(payload: payload)
        #expect(status.lightNode == true)
    }
}

extension String {
    init(format16 v: UInt64) {
        let h = String(v, radix: 16)
        self = String(repeating: "0", count: 16 - h.count) + h
    }
}
