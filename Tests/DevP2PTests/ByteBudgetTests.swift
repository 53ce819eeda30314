import EthCrypto
import NIOCore
import NIOEmbedded
import Testing

@testable import DevP2P

/// Counts the `read` requests that get past the RLPx handler to the socket.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0
    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

struct ByteBudgetTests {
    @Test func aPeerPastItsByteBudgetIsNotReadUntilTheBudgetRefills() throws {
        let loop = EmbeddedEventLoop()
        var config = RLPxConfiguration(nodeKey: .generate(), capabilities: [SupportedCapability(name: "shh", version: 6, messageCount: 128)])
        config.inboundBytesPerSecond = 100
        config.inboundBurstBytes = 100
        let counter = ReadCounter()
        let handler = RLPxHandler(configuration: config, remote: nil, eventLoop: loop)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([counter, handler])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        channel.read()
        #expect(counter.reads == 1, "within budget, reads pass")
        // 250 bytes of an EIP-8 auth packet announcing 300: not complete yet, and 150 bytes over the budget of 100.
        try channel.writeInbound(ByteBuffer(bytes: [0x01, 0x2C] + [UInt8](repeating: 0x42, count: 248)))
        #expect(channel.isActive)
        channel.read()
        #expect(counter.reads == 1, "over budget, the read is held")
        loop.advanceTime(by: .milliseconds(1000))
        #expect(counter.reads == 1, "50 bytes still owed after 1 s at 100 B/s")
        loop.advanceTime(by: .milliseconds(600))
        #expect(counter.reads == 2, "the held read is released once the budget is positive")
        #expect(channel.isActive)
        channel.read()
        #expect(counter.reads == 3)
        _ = try? channel.finish()
    }

    @Test func withoutABudgetEveryReadPasses() throws {
        let loop = EmbeddedEventLoop()
        let config = RLPxConfiguration(nodeKey: .generate(), capabilities: [SupportedCapability(name: "shh", version: 6, messageCount: 128)])
        let counter = ReadCounter()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([counter, RLPxHandler(configuration: config, remote: nil, eventLoop: loop)])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0x42, count: 250)))
        channel.read()
        channel.read()
        #expect(counter.reads == 2)
        _ = try? channel.finish()
    }
}
