import Testing
import SkrybaGPIO

/// Debounce outcomes to the nanosecond: what is accepted, and at which edge it is dated.
@Suite struct GPIODebouncerTests {
    enum Step { case edge(UInt64, Bool), settle(UInt64) }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var initial = false
        var steps: [Step]
        var accepted: [GPIOEdge]
        var testDescription: String { name }
    }

    static let ms: UInt64 = 1_000_000
    static func up(_ t: UInt64) -> GPIOEdge { GPIOEdge(timestampNanoseconds: t, level: true) }
    static func down(_ t: UInt64) -> GPIOEdge { GPIOEdge(timestampNanoseconds: t, level: false) }

    static let cases: [Case] = [
        Case(name: "a clean change is dated at its edge, not edge + debounce",
             steps: [.edge(1 * ms, true), .settle(11 * ms - 1), .settle(11 * ms)], accepted: [up(1 * ms)]),
        Case(name: "a glitch 1 ns shorter than the debounce vanishes",
             steps: [.edge(1 * ms, true), .edge(11 * ms - 1, false), .settle(100 * ms)], accepted: []),
        Case(name: "exactly the debounce is stable; the next edge proves it",
             steps: [.edge(1 * ms, true), .edge(11 * ms, false), .settle(21 * ms - 1), .settle(21 * ms)],
             accepted: [up(1 * ms), down(11 * ms)]),
        Case(name: "contact bounce is dated at the last bounce",
             steps: [.edge(1_000_000, true), .edge(1_300_000, false), .edge(1_700_000, true), .edge(2_100_000, false),
                     .edge(2_400_000, true), .settle(12_400_000)], accepted: [up(2_400_000)]),
        Case(name: "a repeated level (bounce read late, or a dropped edge) restarts the run",
             steps: [.edge(1 * ms, true), .edge(5 * ms, true), .settle(11 * ms), .settle(15 * ms)], accepted: [up(5 * ms)]),
        Case(name: "an asserted line going idle",
             initial: true, steps: [.edge(3 * ms, false), .settle(13 * ms)], accepted: [down(3 * ms)]),
        Case(name: "an edge to the level already held (raced the initial read) is nothing",
             initial: true, steps: [.edge(2 * ms, true), .settle(50 * ms)], accepted: []),
        Case(name: "a dropout inside an accepted level vanishes",
             steps: [.edge(0, true), .edge(30 * ms, false), .edge(35 * ms, true), .settle(100 * ms)], accepted: [up(0)]),
        Case(name: "loop-current breaks of pulse dialling (60 ms break, 40 ms make) all pass",
             initial: true,
             steps: [.edge(0, false), .edge(60 * ms, true), .edge(100 * ms, false), .edge(160 * ms, true), .settle(200 * ms)],
             accepted: [down(0), up(60 * ms), down(100 * ms), up(160 * ms)]),
    ]

    @Test(arguments: cases) func outcome(_ test: Case) {
        var debouncer = Debouncer(level: test.initial)
        var accepted: [GPIOEdge] = []
        for step in test.steps {
            switch step {
            case .edge(let time, let level):
                if let edge = debouncer.observe(GPIOEdge(timestampNanoseconds: time, level: level)) { accepted.append(edge) }
            case .settle(let time):
                if let edge = debouncer.settle(at: time) { accepted.append(edge) }
            }
        }
        #expect(accepted == test.accepted)
    }

    @Test func deadlineIsWhenThePendingChangeWouldBeAccepted() {
        var debouncer = Debouncer(level: false, debounceNanoseconds: 25 * Self.ms)
        #expect(debouncer.deadline == nil)
        _ = debouncer.observe(Self.up(7 * Self.ms))
        #expect(debouncer.deadline == 32 * Self.ms)
        _ = debouncer.observe(Self.down(9 * Self.ms))
        #expect(debouncer.deadline == nil)
    }
}
