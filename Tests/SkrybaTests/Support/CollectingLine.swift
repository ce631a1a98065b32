import SkrybaCapture
import SkrybaPipeline

/// A line consumer that keeps everything it is given, to compare with what went into the device.
final class CollectingLine: ImmediateLineConsumer, @unchecked Sendable {
    var samples: [Int16] = []
    var periodStarts: [UInt64] = []
    var finishCalls = 0
    var endFrame: UInt64?

    func consume(_ period: CapturedPeriod) {
        periodStarts.append(period.startFrame)
        samples.append(contentsOf: period.samples)
    }

    func finish(endFrame: UInt64) {
        finishCalls += 1
        self.endFrame = endFrame
    }
}
