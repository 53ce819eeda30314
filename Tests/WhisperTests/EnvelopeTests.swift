import EthCrypto
import RLP
import TestSupport
import Testing
import Whisper

private func section(_ name: String) throws -> [String: Any] { try Vectors.object("whisper.json").object(name) }

@Suite("Envelopes, PoW, topics, blooms, keys")
struct EnvelopeTests {
    @Test func everyEnvelopeVector() throws {
        let cases = try section("envelopes").objects("cases")
        #expect(cases.count == 9)
        for c in cases {
            let name = try c.string("name")
            let rlp = try c.hex("rlp")
            let e = try Envelope(rlp: rlp)
            #expect(e.expiry == UInt32(try c.uint64("expiry")), "\(name)")
            #expect(e.ttl == UInt32(try c.uint64("ttl")), "\(name)")
            #expect(e.topic.bytes.hex == (try c.string("topic")), "\(name)")
            #expect(Array(e.data) == (try c.hex("data")), "\(name)")
            #expect(e.nonce == (try c.uint64("nonce")), "\(name)")
            #expect(e.hash.hex == (try c.string("hash")), "\(name)")
            #expect(e.sentTime == UInt32(try c.uint64("sent_time")), "\(name)")
            #expect(e.size == (try c.int("size_for_limits")), "\(name)")
            #expect(e.bloom.bytes.hex == (try c.string("bloom")), "\(name)")
            #expect(e.rlpWithoutNonce.hex == (try c.string("rlp_without_nonce")), "\(name)")
            #expect(e.proofOfWork().bitPattern == UInt64(try c.string("pow_float64_bits"), radix: 16), "\(name)")
            // Encoding the fields gives the same bytes.
            let built = Envelope(expiry: e.expiry, ttl: e.ttl, topic: e.topic, data: e.data, nonce: e.nonce)
            #expect(built.rlp == rlp, "\(name)")
            #expect(built.proofOfWork() == e.proofOfWork(), "\(name)")
            if let seal = c["seal"] as? [String: Any] {
                let sealed = Envelope.seal(
                    expiry: e.expiry,
                    ttl: e.ttl,
                    topic: e.topic,
                    data: e.data,
                    targetPoW: try seal.double("pow_target")
                )
                #expect(sealed.nonce == e.nonce, "\(name): the Seal loop finds the first nonce reaching the target bits")
            }
        }
    }

    @Test func factSheetPoWValues() throws {
        let a = try Envelope(rlp: try Hex.decode("d08001840000000084deadbeef830186a0"))
        #expect(a.proofOfWork() == 0.07692307692307693)
        let b = try Envelope(rlp: try Hex.decode("cf8001840000000084deadbeef820114"))
        #expect(b.proofOfWork() == 19.692307692307693)
    }

    @Test func strictDecodingRejectsBadEnvelopes() throws {
        let good = try Hex.decode("d1845f5e10323284f26e777984deadbeef80")
        // Truncated: the error names the offset.
        do {
            _ = try Envelope(rlp: Array(good.prefix(10)))
            Issue.record("truncated envelope accepted")
        } catch {
            #expect(error.code == .invalidEnvelope)
            #expect(error.offset != nil)
        }
        // Trailing bytes, 4 items, 6 items, a 3-byte topic, a non-canonical nonce.
        let bad: [[UInt8]] = [
            good + [0x00],
            try Hex.decode("cd845f5e10323284f26e777984deadbeef"),
            try Hex.decode("d2845f5e10323284f26e777984deadbeef8080"),
            try Hex.decode("d0845f5e101232836e777984deadbeef80"),
            try Hex.decode("d2845f5e10323284f26e777984deadbeef8100"),
        ]
        for b in bad { #expect(throws: WhisperError.self) { try Envelope(rlp: b) } }
    }

    @Test func topicToBloomWithTheAssignmentQuirk() throws {
        let s = try section("topic_bloom")
        for c in try s.objects("cases") {
            let topic = try Topic(hex: try c.string("topic"))
            #expect(topic.bloom.bytes.hex == (try c.string("bloom")), "\(topic)")
        }
        for c in try s.objects("combined") {
            let topics = try (c["topics"] as? [String] ?? []).map { try Topic(hex: $0) }
            #expect(Bloom(topics: topics).bytes.hex == (try c.string("bloom")))
        }
        for c in try s.objects("match") {
            let filter = try Bloom(bytes: try c.hex("filter"))
            let sample = try Bloom(bytes: try c.hex("sample"))
            #expect(filter.matches(sample) == (c["match"] as? Bool), "\(c["filter_name"] ?? "") vs \(c["sample_name"] ?? "")")
        }
        // Fact sheet §8.3 quirk rows.
        #expect(try Topic(hex: "01020304").bloom.bytes.hex == "04" + String(repeating: "00", count: 31) + "08" + String(repeating: "00", count: 31))
        #expect(try Topic(hex: "0a0b0c00").bloom.bytes.hex == "0010" + String(repeating: "00", count: 62))
    }

    @Test func emptyWireBloomIsAFullNode() throws {
        #expect(try Bloom.fromWire([UInt8]()) == .full)
        #expect(throws: WhisperError.self) { try Bloom.fromWire([UInt8](repeating: 0, count: 63)) }
    }

    @Test func databaseKeysAndCursors() throws {
        let s = try section("db_keys")
        for c in try s.objects("cases") {
            let key = EnvelopeKey(
                sentTime: UInt32(try c.uint64("sent_time")),
                hash: try c.hex("envelope_hash"),
                topic: try Topic(hex: try c.string("topic"))
            )
            #expect(key.bytes.hex == (try c.string("db_key")))
            #expect(key.cursor.bytes.hex == (try c.string("cursor")))
            #expect(key.legacyKey.hex == (try c.string("legacy_db_key")))
            // An index row's key (the cursor's bytes) read back: the sent time and hash of the vector.
            let rowKey = Cursor(trusted: try Hex.decode(try c.string("cursor")))
            #expect(UInt64(rowKey.sentTime) == (try c.uint64("sent_time")))
            #expect(rowKey.hash == (try c.hex("envelope_hash")))
            if let value = c["value"] as? String {
                let e = try Envelope(rlp: try Hex.decode(value))
                #expect(e.key == key)
            }
        }
        for r in try s.objects("ranges") {
            #expect(EnvelopeKey.lowerBound(sentTime: UInt32(try r.uint64("lower"))).bytes.hex == (try r.string("start_key_inclusive")))
            #expect(EnvelopeKey.lowerBound(sentTime: UInt32(try r.uint64("upper")) + 1).bytes.hex == (try r.string("end_key_exclusive")))
            // The largest key of the upper second sorts just below the exclusive end.
            let last = EnvelopeKey.upperBound(sentTime: UInt32(try r.uint64("upper")))
            #expect(last.bytes.hex == String(format: "%08x", UInt32(try r.uint64("upper"))) + String(repeating: "ff", count: 36))
            #expect(last.bytes.hex < (try r.string("end_key_exclusive")))
        }
    }

    @Test func receiveTimeChecks() {
        let now: UInt32 = 1_700_000_000
        let policy = ReceivePolicy(minPoW: 0, maxMessageSize: 1024)
        func env(sent: UInt32, ttl: UInt32 = 50, size: Int = 10) -> Envelope {
            Envelope(expiry: sent &+ ttl, ttl: ttl, topic: Topic(rawValue: 1), data: [UInt8](repeating: 7, count: size), nonce: 0)
        }
        guard case .accept = policy.check(env(sent: now), now: now) else {
            Issue.record("fresh envelope rejected")
            return
        }
        guard case .accept = policy.check(env(sent: now + 10), now: now) else {
            Issue.record("10 s skew rejected")
            return
        }
        #expect(
            policy.check(env(sent: now + 11), now: now)
                == .reject(reason: "envelope from future: sent \(now + 11), now \(now)", timeSync: true, kind: .inFuture)
        )
        #expect(policy.check(env(sent: now - 60, ttl: 50), now: now) == .dropSilently)
        guard case .reject(_, true, .veryOld) = policy.check(env(sent: now - 100, ttl: 50), now: now) else {
            Issue.record("very old accepted")
            return
        }
        guard case .reject(_, false, .oversized) = policy.check(env(sent: now, size: 1005), now: now) else {
            Issue.record("huge accepted")
            return
        }
        let strict = ReceivePolicy(minPoW: 1000)
        guard case .reject(_, false, .lowPoW) = strict.check(env(sent: now), now: now) else {
            Issue.record("low PoW accepted")
            return
        }
        var narrow = ReceivePolicy(minPoW: 0)
        narrow.bloom = Topic(rawValue: 0xAABB_CC00).bloom
        guard case .reject(_, false, .noBloomMatch) = narrow.check(env(sent: now), now: now) else {
            Issue.record("bloom mismatch accepted")
            return
        }
    }

    @Test func jsonRoundTripAndChecks() throws {
        let e = try Envelope(rlp: try Hex.decode("d1845f5e10323284f26e777984deadbeef80"))
        let line = EnvelopeJSON.encode(e)
        #expect(line.hasPrefix("{\"hash\":\"0x32a811c1"))
        #expect(try EnvelopeJSON.decode(line: line) == e)
        let minimal = "{\"expiry\":1600000050,\"ttl\":50,\"topic\":\"0xf26e7779\",\"data\":\"0xdeadbeef\",\"nonce\":0}"
        #expect(try EnvelopeJSON.decode(line: minimal) == e)
        let wrongHash = line.replacingOccurrences(of: "0x32a8", with: "0x32a9")
        #expect(throws: WhisperError.self) { try EnvelopeJSON.decode(line: wrongHash) }
        #expect(throws: WhisperError.self) { try EnvelopeJSON.decode(line: "{\"expiry\":1,\"ttl\":1,\"topic\":\"0x00\"") }
        let big = Envelope(expiry: .max, ttl: .max, topic: Topic(rawValue: .max), data: [0], nonce: .max)
        #expect(try EnvelopeJSON.decode(line: EnvelopeJSON.encode(big)) == big)
    }

    /// Strings that need escapes survive a round trip through the writer and the parser; plain ones are copied whole.
    @Test func jsonStringsWithAndWithoutEscapesRoundTrip() throws {
        let texts = ["0x00ff", "", "a \"quoted\" \\ path", "line\nbreak\ttab\r", "bell \u{07} nul \u{00}", "é ∑ 😀"]
        let line = EnvelopeJSON.object(texts.enumerated().map { ("k\($0.offset)", .string($0.element)) })
        let parsed = try EnvelopeJSON.parseObject(line)
        #expect(parsed.map(\.1) == texts.map { .string($0) })
        #expect(EnvelopeJSON.quote("0x00ff") == "\"0x00ff\"")
        #expect(EnvelopeJSON.quote("a\"b") == "\"a\\\"b\"")
    }
}
