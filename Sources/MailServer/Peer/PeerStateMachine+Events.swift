import DevP2P
import Whisper

extension PeerStateMachine {
    /// An envelope that passed the receive checks, with the PoW they computed.
    public struct AcceptedEnvelope: Sendable, Equatable {
        /// The envelope.
        public var envelope: Envelope
        /// Its proof of work.
        public var pow: Double

        /// An accepted envelope.
        public init(envelope: Envelope, pow: Double) {
            self.envelope = envelope
            self.pow = pow
        }
    }

    /// A code-1 batch waiting for the archive: what to store, and what to answer once it is stored.
    public struct StoreJob: Sendable, Equatable {
        /// The protocol the batch came on.
        public var proto: MailProtocol
        /// The envelopes to store, in batch order.
        public var accepted: [AcceptedEnvelope]
        /// The arrival time to record for each, UNIX seconds.
        public var arrival: UInt32
        /// The rejected envelopes so far.
        var errors: [MessageResponse.EnvelopeError]
        /// The batch hash, when the peer wants confirmations.
        var batchHash: [UInt8]?
        /// A rejection that ends the session once the batch is answered.
        var fatal: String?

        /// The envelopes to store.
        public var envelopes: [Envelope] { accepted.map(\.envelope) }
    }

    /// What the archive made of a ``StoreJob``.
    public enum StoreResult: Sendable, Equatable {
        /// Stored durably; `added` envelopes were new.
        case stored(added: Int)
        /// Not stored.
        case failed
    }

    /// A history request (0x7e) to answer from the archive.
    public struct RequestJob: Sendable, Equatable {
        /// The request payload.
        public var payload: [UInt8]
        /// The protocol to answer on.
        public var proto: MailProtocol
        /// When it arrived, UNIX seconds.
        public var received: Double

        /// A request that arrived on `proto` at `received`.
        public init(payload: [UInt8], proto: MailProtocol, received: Double) {
            self.payload = payload
            self.proto = proto
            self.received = received
        }
    }

    /// A sync request (code 123) from a trusted peer, to answer from the archive.
    public struct SyncJob: Sendable, Equatable {
        public var request: SyncRequest
        /// When it arrived, UNIX seconds.
        public var received: Double
    }

    /// How answering a ``RequestJob`` went.
    public struct RequestOutcome: Sendable, Equatable {
        /// True when the payload was not a request at all.
        public var invalid: Bool
        /// The failure reported to the peer, if any.
        public var failure: String?
        /// True when the rate limit refused the request.
        public var rateLimited: Bool
        /// Envelopes delivered.
        public var envelopes: Int
        /// False when sending the answer failed (the connection is gone).
        public var delivered: Bool
        /// True when the store could not answer (a database that is down): the failure is the store's.
        public var storeFailed: Bool

        /// An outcome.
        public init(
            invalid: Bool = false,
            failure: String? = nil,
            rateLimited: Bool = false,
            envelopes: Int = 0,
            delivered: Bool = true,
            storeFailed: Bool = false
        ) {
            self.invalid = invalid
            self.failure = failure
            self.rateLimited = rateLimited
            self.envelopes = envelopes
            self.delivered = delivered
            self.storeFailed = storeFailed
        }
    }

    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The connection is up: announce our status.
        case start
        /// The peer sent a sub-protocol message.
        case message(RLPxMessage)
        /// The archive finished a ``StoreJob``.
        case stored(StoreJob, StoreResult)
        /// A ``RequestJob`` was answered.
        case answered(RequestJob, RequestOutcome)
        /// A timer fired (the status deadline).
        case tick
    }

    /// What to do, in order.
    public enum Action: Sendable, Equatable {
        /// Send this message to the peer.
        case send(RLPxMessage)
        /// Store these envelopes, then report ``Event/stored(_:_:)``.
        case store(StoreJob)
        /// Answer this request from the archive, then report ``Event/answered(_:_:)``.
        case query(RequestJob)
        /// Answer this sync request from the archive with code-124 bundles and a final response.
        case sync(SyncJob)
        /// Relay these newly stored envelopes to the other peers that want them.
        case relay([AcceptedEnvelope])
        /// Add to a counter of ``MailServerMetrics``.
        case count(String, by: Double)
        /// Record one request's latency in seconds.
        case observeRequest(seconds: Double)
        /// Send Disconnect with `reason` and end the session; `log` says why, for the log.
        case disconnect(DisconnectReason, log: String?)
        /// End the session without a Disconnect (the connection is gone).
        case stop

        /// True for the actions after which the session is over.
        public var endsSession: Bool {
            switch self {
            case .disconnect, .stop: return true
            default: return false
            }
        }
    }
}
