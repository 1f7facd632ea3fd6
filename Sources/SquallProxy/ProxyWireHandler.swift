import NIOCore

/// The first handler on each socket of a proxied connection, next to the socket: it hands what is read to the
/// connection, which counts it, drops it while the link is silent, and takes a raw side's bytes itself (the rest
/// goes on to the inspection handlers); and it is where the connection writes what leaves a byte chain.
///
/// The handlers above it encode what the proxy says itself (NIO's HTTP and WebSocket encoders). While the connection
/// encodes a forwarded request it sets ``capturing``: the encoded bytes are then kept here and handed back, so they
/// can go through the byte chain's faults before they reach the socket.
final class ProxyWireHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let connection: ProxyConnection
    private let side: ProxyConnection.Side
    private var captured: ByteBuffer?

    /// Creates the handler for one side of `connection`.
    init(connection: ProxyConnection, side: ProxyConnection.Side) {
        self.connection = connection
        self.side = side
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.connection.attachWire(context: context, side: self.side)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.connection.bytesArrived(self.unwrapInboundIn(data), from: self.side) {
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.captured != nil else {
            if case .byteBuffer(let buffer) = self.unwrapOutboundIn(data) {
                self.connection.countWritten(buffer.readableBytes, to: self.side)
            }
            return context.write(data, promise: promise)
        }
        if case .byteBuffer(var buffer) = self.unwrapOutboundIn(data) {
            self.captured!.writeBuffer(&buffer)
        }
        promise?.succeed()
    }

    /// Runs `write`, which writes messages into the pipeline above this handler, and returns the bytes the encoders
    /// made of them instead of sending them.
    func capturing(_ write: () -> Void) -> ByteBuffer {
        self.captured = ByteBuffer()
        write()
        defer { self.captured = nil }
        return self.captured!
    }
}

@available(*, unavailable)
extension ProxyWireHandler: Sendable {}
