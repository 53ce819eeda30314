import ArchiveStore
import EthCrypto
import Foundation
import MailServer
import RLP
import TestSupport
import Testing
import Whisper

/// The request pipeline without sockets: a real archive, requests in each dialect, the exact packets.
@Suite("Request processing")
struct RequestProcessorTests {
    final class Fixture {
        let dir: URL
        let archive: Archive
        let envelopes: [Envelope]
        let serverKey = PrivateKey.generate()
        let signer = PrivateKey.generate()
        let processor: RequestProcessor

        init(
            count: Int = 10,
            dataSize: Int = 100,
            maxMessageSize: Int = 1 << 20,
            bundleBytes: Int = 256 << 10,
            rateLimit: Double = 0
        ) throws {
            dir = try CLI.temporaryDirectory("wa-proc")
            archive = try Archive(directory: dir.path)
            envelopes = (0..<count).map { i in
                Envelope(
                    expiry: 1_700_000_060 + UInt32(i),
                    ttl: 60,
                    topic: Topic(rawValue: 0xF26E_7779),
                    data: [UInt8](repeating: UInt8(i), count: dataSize),
                    nonce: UInt64(i)
                )
            }
            _ = try archive.appendAndWait(envelopes)
            var config = MailServerConfiguration(nodeKey: serverKey, password: "pw")
            config.minPoW = 0
            config.maxMessageSize = maxMessageSize
            config.bundleBytes = bundleBytes
            config.rateLimitSeconds = rateLimit
            processor = RequestProcessor(store: archive, configuration: config)
        }

        deinit {
            archive.close()
            try? FileManager.default.removeItem(at: dir)
        }

        func wrapped(_ r: MailRequest, key: SealingKey = .password("pw")) throws -> Envelope {
            try MailClient.requestEnvelope(r, sealing: key, signer: signer, pow: 0, now: 1_700_000_100)
        }

        /// Sorted key order of the stored envelopes.
        var ordered: [Envelope] { envelopes.sorted { $0.key < $1.key } }
    }

    static func delivered(_ answer: RequestProcessor.Answer) throws -> [Envelope] {
        try answer.packets.filter { $0.code == MailCode.p2pMessage }.flatMap { try Envelope.decodeBatch($0.payload) }
    }

    @Test func paginationLikeStatusGoLimit6Of10() async throws {
        // Fact sheet §8.9: 10 envelopes, limit 6 → 6 oldest with a cursor, then the remaining 4 and no cursor.
        let f = try Fixture()
        let first = try f.wrapped(MailRequest(lower: 1_700_000_000, upper: 1_700_000_100, limit: 6))
        let a = await f.processor.handle(first.rlp, from: "p", on: .whisper, now: 1_700_000_100)
        #expect(try Self.delivered(a).map(\.hash) == f.ordered.prefix(6).map(\.hash))
        guard case .success(let id, let last, let cursor?)? = try a.packets.last.map({ try RequestCompletion(payload: $0.payload) }) else {
            Issue.record("expected a cursor")
            return
        }
        #expect(id == first.hash)
        #expect(last == f.ordered[5].hash)
        #expect(cursor == f.ordered[5].key.cursor)
        let second = try f.wrapped(MailRequest(lower: 1_700_000_000, upper: 1_700_000_100, limit: 6, cursor: cursor.bytes))
        let b = await f.processor.handle(second.rlp, from: "p", on: .whisper, now: 1_700_000_100)
        #expect(try Self.delivered(b).map(\.hash) == f.ordered.suffix(4).map(\.hash))
        guard case .success(_, _, nil)? = try b.packets.last.map({ try RequestCompletion(payload: $0.payload) }) else {
            Issue.record("expected no cursor on the last page")
            return
        }
    }

    @Test func bundlesRespectTheMaximumMessageSizeIncludingTheListHeader() async throws {
        let f = try Fixture(count: 50, dataSize: 1000, maxMessageSize: 5000)
        let r = try f.wrapped(MailRequest(lower: 0, upper: 1_800_000_000, limit: 100))
        let a = await f.processor.handle(r.rlp, from: "p", on: .waku, now: 1_700_000_100)
        let bundles = a.packets.filter { $0.code == MailCode.p2pMessage }
        #expect(bundles.count > 1)
        for b in bundles { #expect(b.payload.count <= 5000) }
        #expect(try Self.delivered(a).count == 50)
    }

    /// A page goes out as bundles of about `bundleBytes`, in key order, so a requester can open the first
    /// while later ones are sealed; an envelope larger than a bundle goes alone.
    @Test func aPageIsSplitIntoBundlesOfAboutBundleBytes() async throws {
        let f = try Fixture(count: 100, dataSize: 1000, bundleBytes: 10_000)
        let r = try f.wrapped(MailRequest(lower: 0, upper: 1_800_000_000, limit: 100))
        let a = await f.processor.handle(r.rlp, from: "p", on: .waku, now: 1_700_000_100)
        let bundles = a.packets.filter { $0.code == MailCode.p2pMessage }
        #expect(bundles.count >= 10)
        for b in bundles { #expect(b.payload.count <= 10_000) }
        #expect(try Self.delivered(a).map(\.hash) == f.ordered.map(\.hash))

        let big = try Fixture(count: 3, dataSize: 20_000, bundleBytes: 10_000)
        let rb = try big.wrapped(MailRequest(lower: 0, upper: 1_800_000_000, limit: 10))
        let ab = await big.processor.handle(rb.rlp, from: "p", on: .waku, now: 1_700_000_100)
        #expect(ab.packets.filter { $0.code == MailCode.p2pMessage }.count == 3)
        #expect(try Self.delivered(ab).map(\.hash) == big.ordered.map(\.hash))
    }

    @Test func whisperSendsABareEnvelopeForABundleOfOneAndWakuAList() async throws {
        let f = try Fixture(count: 1)
        let r = try f.wrapped(MailRequest(lower: 0, upper: 1_800_000_000, limit: 10))
        let w = await f.processor.handle(r.rlp, from: "a", on: .whisper, now: 1_700_000_100)
        #expect(w.packets[0].payload == f.envelopes[0].rlp)
        let k = await f.processor.handle(r.rlp, from: "b", on: .waku, now: 1_700_000_100)
        #expect(k.packets[0].payload == RLPWriter.listHeader(length: f.envelopes[0].rlp.count) + f.envelopes[0].rlp)
    }

    @Test func unbatchedRequestsGetOneEnvelopePerPacket() async throws {
        let f = try Fixture(count: 5)
        var request = MailRequest(lower: 0, upper: 1_800_000_000, limit: 10, batch: false, dialect: .rlp6)
        request.bloom = Bloom.full.bytes
        let a = await f.processor.handle(try f.wrapped(request).rlp, from: "p", on: .whisper, now: 1_700_000_100)
        let packets = a.packets.filter { $0.code == MailCode.p2pMessage }
        #expect(packets.count == 5)
        #expect(packets.map(\.payload) == f.ordered.map(\.rlp))
    }

    @Test func asymmetricRequestsToTheNodeKeyAndDirectRequests() async throws {
        let f = try Fixture()
        let asym = try f.wrapped(MailRequest(lower: 0, upper: 1_800_000_000, limit: 3), key: .asymmetric(f.serverKey.publicKey))
        #expect(try Self.delivered(await f.processor.handle(asym.rlp, from: "p", on: .whisper, now: 1_700_000_100)).count == 3)
        let id = Array("8f2d0e1c4b7a49e6a1d3c5b7e9f1a2b3".utf8)
        let direct = MailRequest(
            lower: 0,
            upper: 1_800_000_000,
            topics: [Topic(rawValue: 0xF26E_7779)],
            limit: 4,
            dialect: .directWaku,
            id: id
        )
        let d = await f.processor.handle(direct.encoded(), from: "p", on: .waku, now: 1_700_000_100)
        #expect(try Self.delivered(d).count == 4)
        #expect(d.requestID == id)
    }

    @Test func legacyWindowOverADayAndJunkPayloads() async throws {
        let f = try Fixture()
        var legacy = MailRequest(lower: 1_600_000_000, upper: 1_700_000_000, batch: false, dialect: .legacy)
        legacy.bloom = Bloom.full.bytes
        let a = await f.processor.handle(try f.wrapped(legacy).rlp, from: "p", on: .whisper, now: 1_700_000_100)
        #expect(a.failure?.contains("too big") == true)
        #expect(try Self.delivered(a).isEmpty)
        let junk = await f.processor.handle([0x01, 0x02, 0x03], from: "p", on: .whisper, now: 1_700_000_100)
        #expect(junk.disconnect)
        #expect(junk.packets.isEmpty)
    }
}
