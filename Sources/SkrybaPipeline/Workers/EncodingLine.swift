import SkrybaCapture
import SkrybaOgg

/// A line consumer that encodes everything it is given to one Ogg Opus stream. A gap in the sample
/// clock (periods dropped on a full ring) is filled with silence, so the file stays on the timeline,
/// and counted. The first error stops this line only; it is kept for the report.
public final class EncodingLine<Sink: OggPageSink>: LineConsumer {
    public let line: Int
    public private(set) var encoder: LineEncoder<Sink>?
    public private(set) var failure: String?
    public private(set) var gapFrames: UInt64 = 0
    private var expectedFrame: UInt64?
    private let silence: [Int16]
    private let onFinish: (Sink) throws -> Void

    public init(line: Int, encoder: LineEncoder<Sink>, periodFrames: Int, onFinish: @escaping (Sink) throws -> Void = { _ in }) {
        self.line = line
        self.encoder = encoder
        self.silence = [Int16](repeating: 0, count: periodFrames)
        self.onFinish = onFinish
    }

    public func consume(_ period: CapturedPeriod) {
        guard let encoder else { return }
        do {
            try fillGap(until: period.startFrame, encoder)
            try encoder.consume(period.samples)
            expectedFrame = period.startFrame + UInt64(period.samples.count)
        } catch {
            fail(error)
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
        guard let encoder else { return }
        do {
            try fillGap(until: endFrame, encoder)
            try encoder.finish()
            try onFinish(encoder.sink)
        } catch {
            fail(error)
        }
    }

    private func fail(_ error: any Error) {
        failure = "line \(line): \(error)"
        encoder = nil
    }
}
