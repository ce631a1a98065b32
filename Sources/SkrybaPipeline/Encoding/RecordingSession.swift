import SkrybaOgg
import SkrybaStore

/// One recording on one line, whatever records it (calls, the whole-line mode, the bench, the
/// simulator): encoder → gap fill → sink, and at the end the gaps for the catalog.
///
/// Audio is handed over with the sample-clock frame of its first sample. A later frame than the
/// one expected is a hole in the line's timeline (a ring overflow, an xrun, a recovered device, a
/// storage backlog that overflowed): it is filled with silence, so the file stays on the sample
/// clock and decodes to exactly `durationFrames` samples, and it is kept in `gaps` as evidence.
public final class RecordingSession<Sink: OggPageSink> {
    public let line: Int
    public let rate: Int
    public let startFrame: UInt64
    public let encoder: LineEncoder<Sink>
    /// The frame the next sample belongs to.
    public private(set) var nextFrame: UInt64
    /// The first holes live in memory reserved at the start (a hole found while recording allocates
    /// nothing); a recording with more than `reservedGaps` holes spills the rest into an array.
    private let reserved: UnsafeMutablePointer<RecordingGap>
    private static var reservedGaps: Int { 16 }
    public private(set) var gapCount = 0
    private var spilled: [RecordingGap] = []
    public private(set) var gapFrames: UInt64 = 0

    /// Every hole so far, in order (made when asked: at the end, and for alarms).
    public var gaps: [RecordingGap] {
        Array(UnsafeBufferPointer(start: reserved, count: min(gapCount, Self.reservedGaps))) + spilled
    }

    public var lastGap: RecordingGap? {
        gapCount == 0 ? nil : gapCount > Self.reservedGaps ? spilled.last : reserved[gapCount - 1]
    }

    public init(line: Int, rate: Int, startFrame: UInt64, encoder: LineEncoder<Sink>) {
        self.line = line
        self.rate = rate
        self.startFrame = startFrame
        self.encoder = encoder
        nextFrame = startFrame
        reserved = .allocate(capacity: Self.reservedGaps)
    }

    deinit { reserved.deallocate() }

    public var sink: Sink { encoder.sink }
    public var durationFrames: UInt64 { nextFrame - startFrame }
    public var durationMs: Int64 { Int64(clamping: durationFrames * 1000 / UInt64(rate)) }

    /// Encodes `samples`, whose first sample is at `frame`; a hole before it becomes silence first.
    /// Samples before `nextFrame` (never expected: the clock only moves forward) are skipped.
    public func consume(_ samples: UnsafeBufferPointer<Int16>, at frame: UInt64) throws {
        try fill(until: frame)
        let skip = Int(min(UInt64(samples.count), nextFrame &- min(frame, nextFrame)))
        guard skip < samples.count else { return }
        try encoder.consume(UnsafeBufferPointer(rebasing: samples[skip...]))
        nextFrame += UInt64(samples.count - skip)
    }

    /// Marks the frames up to `frame` as missing and fills at most `limit` of them with silence
    /// (a storage queue takes only so much at once; the rest is filled later). Returns the frames filled.
    @discardableResult
    public func fill(until frame: UInt64, atMost limit: UInt64 = .max) throws -> UInt64 {
        guard frame > nextFrame, limit > 0 else { return 0 }
        let frames = min(frame - nextFrame, limit)
        try encoder.consumeSilence(Int(frames))
        note(RecordingGap(startFrame: nextFrame, frames: frames, recordingStartFrame: startFrame, rate: rate))
        nextFrame += frames
        return frames
    }

    /// One hole filled in several steps stays one gap.
    private func note(_ gap: RecordingGap) {
        gapFrames += gap.frames
        var gap = gap
        if let last = lastGap, last.startFrame + last.frames == gap.startFrame {
            gap = RecordingGap(startFrame: last.startFrame, frames: last.frames + gap.frames, recordingStartFrame: startFrame, rate: rate)
            gapCount -= 1
            if gapCount >= Self.reservedGaps { spilled.removeLast() }
        }
        if gapCount < Self.reservedGaps {
            (reserved + gapCount).initialize(to: gap)
        } else {
            spilled.append(gap)
        }
        gapCount += 1
    }

    /// Fills a hole up to `endFrame` (periods dropped at the very end) and ends the stream. What
    /// cannot be filled (`limit`) ends the file early: listed as a gap, not part of `durationFrames`.
    public func finish(at endFrame: UInt64, fillingAtMost limit: UInt64 = .max) throws {
        try fill(until: endFrame, atMost: limit)
        if endFrame > nextFrame {
            note(RecordingGap(startFrame: nextFrame, frames: endFrame - nextFrame, recordingStartFrame: startFrame, rate: rate))
        }
        try encoder.finish()
    }
}
