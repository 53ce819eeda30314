import EthCrypto
import NIOConcurrencyHelpers
import NIOCore

/// Installs the RLPx handler and the async bridge on a new channel, and builds the peer once established.
enum RLPxChannelSetup {
    /// Adds the handler and the async bridge; must run on the channel's event loop, before any read.
    static func install(
        on channel: Channel,
        configuration: RLPxConfiguration,
        remote: PublicKey?,
        admission: RLPxHandler.Admission? = nil
    ) throws -> Pending {
        let handler = RLPxHandler(configuration: configuration, remote: remote, eventLoop: channel.eventLoop, admission: admission)
        handler.installsBridge = true
        try channel.pipeline.syncOperations.addHandler(handler)
        return Pending(established: handler.established.futureResult, closed: handler.closed.futureResult)
    }

    /// A connection whose handshake is under way.
    struct Pending: Sendable {
        let established: EventLoopFuture<RLPxPeerInfo>
        let closed: EventLoopFuture<RLPxError>

        /// Waits for the Hello exchange and returns the peer.
        func peer() async throws(RLPxError) -> RLPxPeer {
            let info: RLPxPeerInfo
            do {
                info = try await established.get()
            } catch let e as RLPxError {
                throw e
            } catch {
                throw RLPxError(.connectionClosed, NetworkErrorText.describe(error))
            }
            guard let async = info.bridge else { throw RLPxError(.connectionClosed, "no async bridge") }
            // Keep the async channel's scoped access open for the connection's lifetime.
            // The task ends once the channel closed and the async channel's scope was left (its own closing runs
            // on the event loop): the peer awaits it in `waitUntilClosed()`, so that a caller may shut the loop
            // down afterwards without the scope's last work landing on a loop that is gone.
            let (streams, bridge): ((NIOAsyncChannelInboundStream<RLPxMessage>, NIOAsyncChannelOutboundWriter<RLPxMessage>), Task<Void, Never>) =
                await withCheckedContinuation { continuation in
                    let box = NIOLockedValueBox<Task<Void, Never>?>(nil)
                    box.withLockedValue { slot in
                        slot = Task {
                            try? await async.executeThenClose { inbound, outbound in
                                let task = box.withLockedValue { $0 }!
                                continuation.resume(returning: ((inbound, outbound), task))
                                try await async.channel.closeFuture.get()
                            }
                        }
                    }
                }
            return RLPxPeer(
                info: info,
                channel: async.channel,
                inbound: streams.0,
                outbound: streams.1,
                closed: closed,
                bridge: bridge
            )
        }
    }
}
