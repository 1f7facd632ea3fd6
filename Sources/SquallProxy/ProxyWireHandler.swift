import NIOCore

/// The first handler on each socket of a proxied connection, next to the socket: it hands what is read to the
/// connection, which counts it, drops it while the link is silent, and takes a raw side's bytes itself (the rest
/// goes on to the inspection handlers); and it is where the connection writes what leaves a byte chain.
///
/// The handlers above it encode what the proxy says itself (NIO's HTTP and WebSocket encoders). While the connection
/// encodes a forwarded request it sets ``capturing``: the encoded bytes are then kept here and handed back, so they
/// can go through the byte chain's faults before they reach the socket.
///
/// Reads never re-enter the pipeline. Writing can make NIO read the socket at once (a write that fails, because the
/// peer reset, makes NIO drain what is left to read before it closes), so a read may arrive while the handlers
/// above are still handling the previous one — in the middle of changing the pipeline's shape. Such a read, and an end of input behind it, wait here until the outer read is
/// done, and then go to whatever the pipeline has become.
final class ProxyWireHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let connection: ProxyConnection
    private let side: ProxyConnection.Side
    private var captured: ByteBuffer?
    /// Whether a read is being handed on above this handler.
    private var isHandingOn = false
    /// Reads (and an end of input) that arrived while one was being handed on, in order.
    private var waiting: CircularBuffer<Waiting> = []

    private enum Waiting {
        case bytes(ByteBuffer)
        case inputClosed
        case readComplete
    }

    /// Creates the handler for one side of `connection`.
    init(connection: ProxyConnection, side: ProxyConnection.Side) {
        self.connection = connection
        self.side = side
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.connection.attachWire(context: context, side: self.side)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.handOn(.bytes(self.unwrapInboundIn(data)), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.handOn(.readComplete, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            return context.fireUserInboundEventTriggered(event)
        }
        self.handOn(.inputClosed, context: context)
    }

    /// Hands `next` on now, or after the read being handed on (and everything waiting before it).
    private func handOn(_ next: Waiting, context: ChannelHandlerContext) {
        guard !self.isHandingOn else {
            return self.waiting.append(next)
        }
        self.isHandingOn = true
        self.connection.reading(self.side, true)
        defer {
            self.isHandingOn = false
            self.connection.reading(self.side, false)
        }
        var current: Waiting? = next
        while let event = current {
            switch event {
            case .bytes(let buffer):
                if self.connection.bytesArrived(buffer, from: self.side) {
                    context.fireChannelRead(self.wrapInboundOut(buffer))
                }
            case .readComplete:
                context.fireChannelReadComplete()
            case .inputClosed:
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
            current = self.waiting.popFirst()
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
