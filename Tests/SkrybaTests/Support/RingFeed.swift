import SkrybaCapture
import SkrybaPipeline

/// Feeds a line consumer the way the capture thread and its line worker do: each period is written
/// into a real `PeriodRing` (sized like `CaptureRings`: slack plus what the consumer holds) and drained
/// by a `LineDrain`, so a consumer that holds slots reads them back from the ring.
final class RingFeed<Consumer: LineConsumer> {
    let ring: PeriodRing
    var drain: LineDrain<Consumer>

    init(_ consumer: Consumer, periodFrames: Int, slack: Int = 4) {
        ring = .allocate(slotCount: slack + consumer.heldPeriods(periodFrames: periodFrames), periodFrames: periodFrames)
        drain = LineDrain(ring: ring, consumer: consumer)
    }

    deinit { ring.deallocate() }

    /// One period starting at `startFrame` (at most `periodFrames` samples): published, then consumed.
    func push(_ samples: UnsafeBufferPointer<Int16>, startFrame: UInt64) {
        guard let slot = ring.reserve() else { preconditionFailure("the consumer holds more slots than it declared") }
        if let base = samples.baseAddress { slot.update(from: base, count: samples.count) }
        ring.publish(startFrame: startFrame, frames: samples.count)
        drain.drain()
    }

    func finish(endFrame: UInt64) { drain.finish(endFrame: endFrame) }
}
