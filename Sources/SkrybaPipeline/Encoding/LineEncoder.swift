import SkrybaOgg
import SkrybaOpus

/// Turns one line's samples into an Ogg Opus stream: gathers 20 ms frames, encodes them with
/// libopus at the line's native rate, muxes the packets. Buffers are reserved up front, so a
/// running encoder allocates nothing per frame.
public final class LineEncoder<Sink: OggPageSink> {
    public let encoder: OpusEncoder
    public private(set) var writer: OggOpusWriter<Sink>
    private let frame: UnsafeMutableBufferPointer<Int16>
    private let packet: UnsafeMutableRawBufferPointer
    private var filled = 0
    private let samples48kPerFrame: Int
    /// Samples given to `consume` so far, at the line's rate.
    public private(set) var capturedSamples: Int64 = 0
    public private(set) var isFinished = false

    /// Metadata written into OpusTags, in the order given.
    public struct Metadata: Sendable {
        public var comments: [(key: String, value: String)]
        public init(_ comments: [(key: String, value: String)]) { self.comments = comments }
    }

    /// Writes the Ogg Opus headers to `sink` at once.
    /// - Parameter packetsPerPage: the flush interval in 20 ms packets (50 = one second).
    public init(sampleRate: Int, settings: OpusSettings, sink: Sink, serialNumber: UInt32,
                metadata: Metadata, packetsPerPage: Int = 50) throws {
        encoder = try OpusEncoder(sampleRate: sampleRate, settings: settings)
        samples48kPerFrame = 48000 / 50
        frame = .allocate(capacity: encoder.frameSamples)
        frame.initialize(repeating: 0)
        packet = .allocate(byteCount: OpusEncoder.maximumPacketBytes, alignment: 16)
        let preSkip = encoder.lookahead * (48000 / sampleRate)
        let vendor = "Skryba \(SkrybaVersion.current) (\(OpusEncoder.libraryVersion))"
        do {
            writer = try OggOpusWriter(sink: sink, serialNumber: serialNumber, preSkip: preSkip, inputSampleRate: sampleRate,
                                       vendor: vendor, comments: metadata.comments, packetsPerPage: packetsPerPage)
        } catch {
            frame.deallocate()
            packet.deallocate()
            throw error
        }
    }

    deinit {
        frame.deallocate()
        packet.deallocate()
    }

    public var sink: Sink { writer.sink }

    public func consume(_ samples: UnsafeBufferPointer<Int16>) throws {
        precondition(!isFinished)
        var offset = 0
        while offset < samples.count {
            let take = min(frame.count - filled, samples.count - offset)
            for index in 0..<take { frame[filled + index] = samples[offset + index] }
            filled += take
            offset += take
            if filled == frame.count { try encodeFrame() }
        }
        capturedSamples += Int64(samples.count)
    }

    /// `count` samples of silence (a hole in the line's timeline), straight into the frame buffer.
    public func consumeSilence(_ count: Int) throws {
        precondition(!isFinished)
        var left = count
        while left > 0 {
            let take = min(frame.count - filled, left)
            for index in 0..<take { frame[filled + index] = 0 }
            filled += take
            left -= take
            if filled == frame.count { try encodeFrame() }
        }
        capturedSamples += Int64(count)
    }

    private func encodeFrame() throws {
        let length = try encoder.encode(frame: UnsafePointer(frame.baseAddress!), into: packet)
        try writer.append(packet: UnsafeRawBufferPointer(rebasing: packet[0..<length]), samples48k: samples48kPerFrame)
        filled = 0
    }

    /// Pushes the encoder's lookahead out with silence and ends the stream with exact end trimming.
    public func finish() throws {
        precondition(!isFinished)
        isFinished = true
        // Packets must cover captured + lookahead samples, so the decoder can deliver every captured one.
        let needed = capturedSamples + Int64(encoder.lookahead)
        var encoded = Int64(writer.packets) * Int64(frame.count) + Int64(filled)
        repeat {
            for index in filled..<frame.count { frame[index] = 0 }
            encoded += Int64(frame.count - filled)
            filled = frame.count
            try encodeFrame()
        } while encoded < needed
        try writer.finish(capturedSamples48k: capturedSamples * Int64(48000 / encoder.sampleRate))
    }
}

public enum SkrybaVersion {
    public static let current = "0.1.0"
}
