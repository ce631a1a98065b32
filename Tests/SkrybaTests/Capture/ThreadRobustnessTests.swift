#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import SkrybaALSA
import SkrybaCapture
import SkrybaCore
import SkrybaPipeline
import SkrybaSystem

/// Timeouts, thread names and thread start failures of the capture path (issue 9, item 7).
@Suite struct ThreadRobustnessTests {
    static func nanoseconds(_ time: timespec) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec) }
    static func now(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return nanoseconds(time)
    }

    /// A wall-clock step cannot be made safely in a test (it would move every process's clock, and
    /// time namespaces offset only the monotonic clocks), and libfaketime fakes the wall clock in
    /// user space, so the kernel wait under test never sees the step. What can be checked honestly
    /// is where the deadline lives: `wait` computes it with `WakeSignal.deadline` on CLOCK_MONOTONIC
    /// and hands it to `sem_clockwait(CLOCK_MONOTONIC)`, whose kernel timer a wall-clock step does not
    /// move. With the old CLOCK_REALTIME deadline this test fails: that deadline is ~56 years
    /// (the epoch) past the monotonic one.
    @Test func timeoutsAreDeadlinesOnTheMonotonicClock() {
        #expect(WakeSignal.timeoutClock == CLOCK_MONOTONIC)
        let before = Self.now(CLOCK_MONOTONIC)
        let deadline = Self.nanoseconds(WakeSignal.deadline(afterNanoseconds: 2_000_000_000))
        let after = Self.now(CLOCK_MONOTONIC)
        #expect(deadline >= before + 2_000_000_000 && deadline <= after + 2_000_000_000)
        #expect(abs(Self.now(CLOCK_REALTIME) + 2_000_000_000 - deadline) > 3600 * 1_000_000_000, "not a wall-clock deadline")
        // The nanosecond field stays normalised across a second boundary.
        let carried = WakeSignal.deadline(afterNanoseconds: 1_999_999_999)
        #expect((0..<1_000_000_000).contains(carried.tv_nsec))
    }

    @Test func aWaitEndsOnASignalOrAtItsTimeout() {
        let signal = WakeSignal.make()
        defer { signal.destroy() }
        #expect(signal.wait(timeoutNanoseconds: 1_000_000) == false, "nothing was posted: the wait times out")
        signal.signal()
        #expect(signal.wait(timeoutNanoseconds: 60_000_000_000) == true, "a posted signal ends the wait at once")
    }

    @Test func threadsCarryTheirNames() throws {
        let seen = Mutex<[String]>([])
        let named = try JoinableThread(name: "line 3") { seen.withLock { $0.append(JoinableThread.currentThreadName) } }
        named.join()
        let long = try JoinableThread(name: "lines 1,3,5,7,9,11") { seen.withLock { $0.append(JoinableThread.currentThreadName) } }
        long.join()
        #expect(seen.withLock { $0 } == ["line 3", "lines 1,3,5,7,9"], "cut to Linux's 15 bytes")
    }

    /// The capture thread is "capture"; each line worker is named after its lines.
    @Test func theCaptureAndLineWorkerThreadsAreNamed() throws {
        _ = ALSAFixture.shared
        let layout = try LineLayout(rate: 8000, lines: 3, channels: 8)
        let pcm = try PCM(name: "skryba_test_pattern8", stream: .capture,
                          parameters: PCMParameters(rate: 8000, channels: 8, periodFrames: 160))
        let rings = CaptureRings(layout: layout, periodFrames: pcm.parameters.periodFrames, slotsPerRing: 8)
        let lines = (0..<3).map { _ in NameRecordingLine() }
        let capture = CaptureThread(consumers: 2)
        let workers = try LineWorkers(rings: rings, capture: capture, consumers: lines)
        let names = SeenThreadNames()
        try capture.start(rings.makeLoop(source: NameRecordingSource(base: pcm.realtimeReader(), names: names), frameLimit: 1600,
                                         pacing: .waitForConsumers), realtimePriority: nil)
        _ = capture.join()
        workers.join()
        #expect(names.seen.withLock { $0 } == ["capture"])
        #expect(lines.map { $0.names.withLock { $0 } } == [["lines 1,3"], ["line 2"], ["lines 1,3"]])
    }

    /// pthread_create fails (here: a 64 TiB stack no system can map): an error that names the
    /// thread and says why, instead of a trap that takes the daemon down without a word.
    @Test func aThreadThatCannotStartIsAThrownError() {
        let ran = Atomic<Bool>(false)
        #expect {
            _ = try JoinableThread(name: "storage", stackBytes: 1 << 46) { ran.store(true, ordering: .relaxed) }
        } throws: { error in
            guard let error = error as? ThreadStartError else { return false }
            return error.name == "storage" && error.code != 0
                && error.description.hasPrefix("cannot start the thread 'storage': pthread_create failed: \(String(cString: strerror(error.code)))")
        }
        #expect(ran.load(ordering: .relaxed) == false)
    }

    @Test func wipedPlaintextIsZeroAndReleased() {
        var plaintext: [UInt8] = Array(repeating: 0xA5, count: 4096)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { copy.deallocate() }
        plaintext.withUnsafeBytes { copy.copyMemory(from: $0) }
        SecureWipe.wipe(copy)
        #expect(copy.allSatisfy { $0 == 0 })
        SecureWipe.wipe(&plaintext)
        #expect(plaintext.isEmpty)
    }
}

/// Records the name of the thread that consumes its periods.
final class NameRecordingLine: ImmediateLineConsumer, @unchecked Sendable {
    let names = Mutex<Set<String>>([])
    func consume(_ period: CapturedPeriod) {
        let name = JoinableThread.currentThreadName
        names.withLock { _ = $0.insert(name) }
    }
    func finish(endFrame: UInt64) {}
}

final class SeenThreadNames: Sendable { let seen = Mutex<[String]>([]) }

/// A capture source that notes which thread reads it (the test only; it locks, the real path does not).
struct NameRecordingSource<Base: CaptureSource>: CaptureSource {
    var base: Base
    let names: SeenThreadNames
    var channels: Int { base.channels }
    mutating func read(into buffer: UnsafeMutablePointer<Int16>, frames: Int) -> CaptureReadResult {
        let name = JoinableThread.currentThreadName
        names.seen.withLock { if !$0.contains(name) { $0.append(name) } }
        return base.read(into: buffer, frames: frames)
    }
    func streamTimestamp(position: UInt64) -> ClockAnchor? { nil }
}
