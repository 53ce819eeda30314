import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP endpoint serving `GET /metrics` in the Prometheus text format.
public final class MetricsServer: Sendable {
    let channel: Channel

    init(channel: Channel) { self.channel = channel }

    /// Binds `host:port` and serves `metrics`.
    public static func start(host: String, port: Int, metrics: MailServerMetrics) async throws -> MetricsServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHandler(metrics: metrics))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsServer(channel: channel)
    }

    /// The bound port.
    public var port: Int? { channel.localAddress?.port }

    /// Stops serving.
    public func close() async { try? await channel.close() }
}

final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: MailServerMetrics

    init(metrics: MailServerMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let found = head.uri == "/metrics" || head.uri == "/"
        let body = found ? metrics.render() : "not found\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; version=0.0.4")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: found ? .ok : .notFound, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        let channel = context.channel
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}
