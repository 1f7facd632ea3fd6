import CompressNIO
import NIOCore

/// One gzip stream written a batch at a time: each batch is compressed and sync-flushed, so the file on disk
/// inflates up to the last batch written (a run killed mid-way leaves a readable log, as a plain one does), and the
/// stream's trailer is written when the log closes.
final class GzipStreamWriter {
    private let compressor: ZlibCompressor

    /// A new stream at zlib's fastest level: a million-client simulation writes 8 GB of NDJSON, which the writer
    /// thread must compress as fast as the simulation makes it.
    init() throws(ScenarioError) {
        do {
            self.compressor = try ZlibCompressor(
                algorithm: .gzip,
                configuration: ZlibConfiguration(compressionLevel: .fastestCompression)
            )
        } catch {
            throw .reportFailed(path: "(gzip)", reason: "zlib could not start a stream: \(error)")
        }
    }

    /// `bytes` compressed and flushed; with `finish`, the stream's end after them.
    func compress(_ bytes: [UInt8], finish: Bool) -> [UInt8] {
        // Never an empty buffer: zlib is handed its storage's address.
        var input = ByteBufferAllocator().buffer(capacity: max(bytes.count, 16))
        input.writeBytes(bytes)
        var output = ByteBuffer()
        // deflateBound: room for the whole batch and its flush, so one call does it.
        let capacity = self.compressor.maxSize(from: input) + 64
        var result: [UInt8] = []
        while true {
            output.clear(minimumCapacity: capacity)
            let unread = input.readableBytes
            do {
                try self.compressor.deflate(from: &input, to: &output, flush: finish ? .finish : .sync)
                result += output.readableBytesView
                // Done unless the output filled up before the input or the flush was through.
                if input.readableBytes == 0 && output.writableBytes > 0 { return result }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                result += output.readableBytesView
                // zlib says "no progress possible" as a full buffer: nothing in and nothing out is the end.
                if output.readableBytes == 0 && input.readableBytes == unread { return result }
            } catch {
                return result
            }
        }
    }
}
