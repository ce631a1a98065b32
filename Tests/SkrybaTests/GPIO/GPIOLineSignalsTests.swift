import Testing
import SkrybaCore
import SkrybaGPIO

/// The GPIO backend without a chip: the event-to-edge conversion with synthetic kernel edges, the
/// edge queue, and the errors of the libgpiod path (no /dev/gpiochip* exists here; docs/gpio.md).
@Suite struct GPIOLineSignalsTests {
    static let second: UInt64 = 1_000_000_000
    static let ms: UInt64 = 1_000_000

    /// 8000 Hz exactly, stream started at 1 s: frame = (t − 1 s) × 8000.
    static func clock() -> SampleClockMapper {
        var mapper = SampleClockMapper(nominalRate: 8000)
        mapper.add(ClockAnchor(monotonicNanoseconds: 2 * second, frame: 8_000))
        mapper.add(ClockAnchor(monotonicNanoseconds: 3 * second, frame: 16_000))
        return mapper
    }

    static let inputs: [GPIOEdgeConverter.Input] = [
        .init(line: 1, signal: .ring), .init(line: 1, signal: .hook), .init(line: 2, signal: .ring), .init(line: 2, signal: .hook),
    ]

    @Test func kernelEdgesBecomeDebouncedFramePositionedSignalEdges() {
        let clock = Self.clock()
        var converter = GPIOEdgeConverter(inputs: Self.inputs, initialLevels: [false, false, false, true])
        // Line 2 was already off hook when the inputs were opened.
        #expect(converter.initialEdges(at: 3 * Self.second, clock: clock) == [SignalEdge(frame: 16_000, line: 2, signal: .hook, level: true)])

        func edge(_ t: UInt64, _ level: Bool) -> GPIOEdge { GPIOEdge(timestampNanoseconds: t, level: level) }
        var out: [SignalEdge] = []
        // Line 1 goes off hook at 3.500 062 5 s = frame 20 000.5 → 20 000; known once stable 10 ms.
        out += [converter.observe(edge(3_500_062_500, true), input: 1, clock: clock)].compactMap { $0 }
        #expect(converter.deadline == 3_510_062_500)
        out += converter.settle(at: 3_510_062_499, clock: clock)
        #expect(out.isEmpty)
        out += converter.settle(at: 3_510_062_500, clock: clock)
        // A 3 ms spike on line 2's ring input vanishes.
        out += [converter.observe(edge(3_600_000_000, true), input: 2, clock: clock),
                converter.observe(edge(3_603_000_000, false), input: 2, clock: clock)].compactMap { $0 }
        // Ring on line 1 and line 2's hang-up, both proven by the same settle, in time order.
        out += [converter.observe(edge(4_000_500_000, false), input: 3, clock: clock),
                converter.observe(edge(4_000_100_000, true), input: 0, clock: clock)].compactMap { $0 }
        out += converter.settle(at: 4_100_000_000, clock: clock)
        #expect(out == [
            SignalEdge(frame: 20_000, line: 1, signal: .hook, level: true),
            SignalEdge(frame: 24_000, line: 1, signal: .ring, level: true),
            SignalEdge(frame: 24_004, line: 2, signal: .hook, level: false),
        ])
        #expect(converter.deadline == nil)
    }

    @Test func theQueueHandsOutInFrameOrderAndMovesLateEdgesForward() {
        let queue = SignalEdgeQueue()
        queue.append([SignalEdge(frame: 500, line: 1, signal: .hook, level: true),
                      SignalEdge(frame: 100, line: 2, signal: .ring, level: true),
                      SignalEdge(frame: 500, line: 1, signal: .ring, level: false)])
        #expect(queue.take(before: 100) == [])
        #expect(queue.take(before: 501) == [SignalEdge(frame: 100, line: 2, signal: .ring, level: true),
                                            SignalEdge(frame: 500, line: 1, signal: .hook, level: true),
                                            SignalEdge(frame: 500, line: 1, signal: .ring, level: false)])
        // Accepted after the consumer passed frame 501: delivered at 501, counted.
        queue.append([SignalEdge(frame: 480, line: 2, signal: .ring, level: false)])
        #expect(queue.lateEdges == 1)
        #expect(queue.take(before: 1_000) == [SignalEdge(frame: 501, line: 2, signal: .ring, level: false)])
    }

    @Test func aLineThatCannotBeOpenedIsNamedWithItsChipAndOffset() {
        let anchor = SampleClockAnchor.allocate()
        defer { anchor.deallocate() }
        let wiring = GPIOLineWiring(line: 2, name: "Księgowość", ring: GPIOInputWiring(chip: "gpiochip-skryba-missing", offset: 17),
                                    hook: GPIOInputWiring(chip: "gpiochip-skryba-missing", offset: 18))
        let error = #expect(throws: GPIOError.self) { try GPIOLineSignals(lines: [wiring], anchor: anchor, sampleRate: 8000) }
        #expect(error?.description ==
            "GPIO line 2 (Księgowość) ring input gpiochip-skryba-missing line 17: gpiod_chip_open_lookup failed: No such file or directory (errno 2)")
    }

    /// The reader thread starts and stops (here with no inputs: the only configuration without a chip).
    @Test func startsAndClosesTheReaderThread() throws {
        let anchor = SampleClockAnchor.allocate()
        defer { anchor.deallocate() }
        let signals = try GPIOLineSignals(lines: [], anchor: anchor, sampleRate: 8000)
        #expect(signals.takeEdges(before: .max) == [])
        signals.close()
        signals.close()
        #expect(signals.failure == nil)
        #expect(signals.decisionDelayNanoseconds == GPIOLineSignals.settleMargin)
    }
}
