import SkrybaCapture
import SkrybaOgg

/// How a line's recording ended, handed to its store.
public struct LineCompletion<Sink: OggPageSink> {
    public var line: Int
    public var sink: Sink
    /// Samples captured at the line's rate (gaps filled with silence included).
    public var capturedSamples: Int64
    /// Where the sample clock stopped.
    public var endFrame: UInt64
    /// Nil when the stream was finished cleanly (final page, final record).
    public var failure: String?
}

/// A line consumer that encodes everything it is given to one Ogg Opus stream. A gap in the sample
/// clock (periods dropped on a full ring) is filled with silence, so the file stays on the timeline,
/// and counted. The first error stops this line only; it is kept for the report.
public final class EncodingLine<Sink: OggPageSink>: LineConsumer {
    public let line: Int
    public private(set) var encoder: LineEncoder<Sink>?
    public private(set) var failure: String?
    public private(set) var gapFrames: UInt64 = 0
    private var lastSink: Sink
    private var expectedFrame: UInt64?
    private let silence: [Int16]
    private let completion: (LineCompletion<Sink>) -> Void

    public init(line: Int, encoder: LineEncoder<Sink>, periodFrames: Int, completion: @escaping (LineCompletion<Sink>) -> Void) {
        self.line = line
        self.encoder = encoder
        self.lastSink = encoder.sink
        self.silence = [Int16](repeating: 0, count: periodFrames)
        self.completion = completion
    }

    public var bytesWritten: Int { (encoder?.sink ?? lastSink).bytesWritten }

    public func consume(_ period: CapturedPeriod) {
        guard let encoder else { return }
        do {
            try fillGap(until: period.startFrame, encoder)
            try encoder.consume(period.samples)
            expectedFrame = period.startFrame + UInt64(period.samples.count)
        } catch {
            fail(error, encoder)
        }
    }

    /// Silence for frames the ring had to drop, so the recording stays on the sample clock.
    private func fillGap(until frame: UInt64, _ encoder: LineEncoder<Sink>) throws {
        let expected = expectedFrame ?? 0
        guard frame > expected else { return }
        var missing = frame - expected
        gapFrames += missing
        while missing > 0 {
            let chunk = Int(min(missing, UInt64(silence.count)))
            try silence.withUnsafeBufferPointer { try encoder.consume(UnsafeBufferPointer(rebasing: $0[0..<chunk])) }
            missing -= UInt64(chunk)
        }
        expectedFrame = frame
    }

    public func finish(endFrame: UInt64) {
        if let encoder {
            do {
                try fillGap(until: endFrame, encoder)
                try encoder.finish()
                lastSink = encoder.sink
            } catch {
                fail(error, encoder)
            }
        }
        completion(LineCompletion(line: line, sink: lastSink, capturedSamples: Int64(expectedFrame ?? 0), endFrame: endFrame,
                                  failure: failure))
    }

    private func fail(_ error: any Error, _ encoder: LineEncoder<Sink>) {
        failure = "line \(line): \(error)"
        lastSink = encoder.sink
        self.encoder = nil
    }
}
