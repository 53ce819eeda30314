extension RLPxHandler {
    /// The frame layer of a connection whose handshake is done.
    struct Link {
        var encoder: FrameEncoder
        var decoder: FrameDecoder
        var session: P2PSession
        /// The handshake form the connection used.
        let format: HandshakeFormat
    }

    /// Where the connection is; each phase carries what it needs.
    enum State {
        /// The encryption handshake is under way.
        case handshaking(HandshakeStateMachine)
        /// Frames are up and our Hello is sent; the peer's Hello, and its admission, are awaited.
        case awaitingHello(Link)
        /// Hello exchanged and the peer admitted: sub-protocol messages flow.
        case established(Link)
        /// Ending because of `reason`; `link`, when frames were up, sends a last Disconnect.
        case closing(reason: RLPxError, link: Link?, wasEstablished: Bool)
        /// Gone: both promises are complete.
        case closed(reason: RLPxError)

        /// True once the connection is ending.
        var isClosing: Bool {
            switch self {
            case .closing, .closed: return true
            case .handshaking, .awaitingHello, .established: return false
            }
        }

        /// The frame layer, while there is one to send on.
        var link: Link? {
            switch self {
            case .awaitingHello(let link), .established(let link): return link
            case .closing(_, let link, _): return link
            case .handshaking, .closed: return nil
            }
        }

        /// Why the connection is ending, once it is.
        var closeReason: RLPxError? {
            switch self {
            case .closing(let reason, _, _), .closed(let reason): return reason
            case .handshaking, .awaitingHello, .established: return nil
            }
        }

        /// Replaces the frame layer (after encoding or decoding advanced it).
        mutating func update(_ new: Link) {
            switch self {
            case .awaitingHello: self = .awaitingHello(new)
            case .established: self = .established(new)
            case .closing(let reason, .some, let wasEstablished): self = .closing(reason: reason, link: new, wasEstablished: wasEstablished)
            case .handshaking, .closing(_, .none, _), .closed: break
            }
        }
    }
}
