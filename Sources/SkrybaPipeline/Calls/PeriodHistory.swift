import SkrybaCapture

/// A line worker's last periods, copied into memory allocated when the first period arrives, for
/// the two reasons a worker looks back: GPIO edges are known only after a decision delay (the call
/// logic works that far behind the capture), and detectors woken by the energy gate must hear the
/// periods just before the one that woke them. Periods are numbered from 0 in arrival order; the
/// last `slotCount` stay readable.
final class PeriodHistory {
    let slotCount: Int
    private var slotCapacity = 0
    private var storage: UnsafeMutablePointer<Int16>?
    private var starts: [UInt64]
    private var counts: [Int]
    /// Periods pushed so far: the newest is `pushed - 1`.
    private(set) var pushed = 0

    init(slotCount: Int) {
        self.slotCount = max(slotCount, 1)
        starts = Array(repeating: 0, count: self.slotCount)
        counts = Array(repeating: 0, count: self.slotCount)
    }

    deinit { storage?.deallocate() }

    /// The oldest period still held.
    var oldest: Int { max(0, pushed - slotCount) }

    func push(_ period: CapturedPeriod) {
        if period.samples.count > slotCapacity { grow(to: period.samples.count) }
        let slot = pushed % slotCount
        starts[slot] = period.startFrame
        counts[slot] = period.samples.count
        if let base = period.samples.baseAddress, let storage { (storage + slot * slotCapacity).update(from: base, count: period.samples.count) }
        pushed += 1
    }

    /// Period `number` (`oldest..<pushed`); its samples stay valid until `slotCount` more are pushed.
    func period(_ number: Int) -> CapturedPeriod {
        let slot = number % slotCount
        return CapturedPeriod(startFrame: starts[slot], samples: UnsafeBufferPointer(start: storage.map { $0 + slot * slotCapacity }, count: counts[slot]))
    }

    /// Only when a period is longer than any before (the first one, or a shorter first period).
    private func grow(to capacity: Int) {
        let grown = UnsafeMutablePointer<Int16>.allocate(capacity: capacity * slotCount)
        if let storage {
            for slot in 0..<slotCount { (grown + slot * capacity).update(from: storage + slot * slotCapacity, count: counts[slot]) }
            storage.deallocate()
        }
        storage = grown
        slotCapacity = capacity
    }
}
