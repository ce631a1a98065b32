import SkrybaCapture
import SkrybaOgg
import SkrybaStore

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
    /// The holes in the line's timeline, filled with silence in the file.
    public var gaps: [RecordingGap]
}

/// A line consumer that records everything it is given as one `RecordingSession` (the whole-line
/// mode and the bench). The first error stops this line only; it is kept for the report.
public final class EncodingLine<Sink: OggPageSink>: LineConsumer {
    public let line: Int
    public let session: RecordingSession<Sink>
    public private(set) var failure: String?
    private var lastSink: Sink
    private var stopped = false
    private let completion: (LineCompletion<Sink>) -> Void

    public init(line: Int, session: RecordingSession<Sink>, completion: @escaping (LineCompletion<Sink>) -> Void) {
        self.line = line
        self.session = session
        lastSink = session.sink
        self.completion = completion
    }

    public var gapFrames: UInt64 { session.gapFrames }
    public var bytesWritten: Int { (stopped ? lastSink : session.sink).bytesWritten }

    public func consume(_ period: CapturedPeriod) {
        guard !stopped else { return }
        do { try session.consume(period.samples, at: period.startFrame) } catch { fail(error) }
    }

    public func finish(endFrame: UInt64) {
        if !stopped {
            do {
                try session.finish(at: endFrame)
                lastSink = session.sink
            } catch {
                fail(error)
            }
        }
        completion(LineCompletion(line: line, sink: lastSink, capturedSamples: Int64(session.durationFrames), endFrame: endFrame,
                                  failure: failure, gaps: session.gaps))
    }

    private func fail(_ error: any Error) {
        failure = "line \(line): \(error)"
        lastSink = session.sink
        stopped = true
    }
}
