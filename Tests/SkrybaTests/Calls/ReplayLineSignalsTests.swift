import Testing
import SkrybaCore

@Suite struct ReplayLineSignalsTests {
    @Test func aWellFormedFileReplaysInFrameOrder() throws {
        let text = """
            # a call on line 2
            8000\t2\tring\t1
            16000\t2\tring\t0   # one second of ringing

            20000\t2\thook\t1\r
            20000\t1\thook\t1
            90000\t2\thook\t0
            """
        let replay = try ReplayLineSignals.parse(text, name: "events.tsv", lines: [1, 2])
        #expect(replay.takeEdges(before: 8000) == [])
        #expect(replay.takeEdges(before: 20001) == [
            SignalEdge(frame: 8000, line: 2, signal: .ring, level: true), SignalEdge(frame: 16000, line: 2, signal: .ring, level: false),
            SignalEdge(frame: 20000, line: 2, signal: .hook, level: true), SignalEdge(frame: 20000, line: 1, signal: .hook, level: true),
        ])
        #expect(replay.takeEdges(before: .max) == [SignalEdge(frame: 90000, line: 2, signal: .hook, level: false)])
        #expect(replay.takeEdges(before: .max) == [])
    }

    @Test func everyProblemIsNamedWithItsLine() {
        let text = """
            100\t1\tring\t1
            50\t1\tring\t0
            abc\t1\thook\t1
            200\t7\thook\t1
            300\t1\tbell\t1
            400\t1\thook\t2
            500\t1\thook
            600 1 hook 1
            """
        #expect(throws: ReplayError(problems: [
            "events.tsv:2: frame 50 comes after frame 100: frames must not go backwards",
            "events.tsv:3: FRAME 'abc' is not a whole number of frames",
            "events.tsv:4: line 7 is not configured (configured: 1, 2)",
            "events.tsv:5: SIGNAL 'bell' is neither 'ring' nor 'hook'",
            "events.tsv:6: LEVEL '2' is neither 0 nor 1",
            "events.tsv:7: expected 4 tab-separated fields FRAME LINE SIGNAL LEVEL, found 3",
            "events.tsv:8: expected 4 tab-separated fields FRAME LINE SIGNAL LEVEL, found 1",
        ])) {
            try ReplayLineSignals.parse(text, name: "events.tsv", lines: [1, 2])
        }
    }
}
