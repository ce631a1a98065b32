import Testing
import SkrybaSignals

extension Signals {
    /// DTMF caller ID: key sequences, and whole signals through the detector.
    @Suite struct DTMFCallerIDTests {
        /// Keys 70 ms on, 70 ms off (the usual DTMF CLIP cadence), starting at frame 100.
        static func digits(_ keys: String, at start: UInt64 = 100) -> [DTMFDigit] {
            keys.enumerated().map { index, key in
                DTMFDigit(key: key, startFrame: start + UInt64(index) * 1120, endFrame: start + UInt64(index) * 1120 + 560)
            }
        }

        static func parse(_ digits: [DTMFDigit]) -> [CallerID] {
            var parser = DTMFCallerIDParser()
            return digits.compactMap { parser.feed($0) }
        }

        @Test func numberBetweenAAndC() {
            let ids = Self.parse(Self.digits("A0123456789C"))
            #expect(ids == [CallerID(number: "0123456789", format: .dtmf, startFrame: 100, endFrame: 100 + 11 * 1120 + 560)])
        }

        @Test(arguments: [
            ("D1C", "private"), ("D2C", "unavailable"), ("D3C", "unavailable"),
            ("D1#", "private"), ("D3#", "unavailable"), ("B00C", "unavailable"), ("B10C", "private"),
        ])
        func absenceCodes(keys: String, reason: String) {
            let ids = Self.parse(Self.digits(keys))
            #expect(ids.map(\.absenceReason) == [reason])
            #expect(ids.first?.number == nil)
        }

        @Test func variants() {
            #expect(Self.parse(Self.digits("A225551234#")).map(\.number) == ["225551234"])
            // D<number>C without an A field: the number (Taiwan/Kuwait); after an A field: a diverting number, not kept.
            #expect(Self.parse(Self.digits("D0221234567C")).map(\.number) == ["0221234567"])
            #expect(Self.parse(Self.digits("A111D222C")).map(\.number) == ["111"])
            // Fields in one message: a number and an absence code for another party.
            #expect(Self.parse(Self.digits("A12B10C")).map(\.absenceReason) == ["private"])
        }

        @Test func malformedSequencesYieldNothing() {
            #expect(Self.parse(Self.digits("0123456789C")).isEmpty)        // no start key
            #expect(Self.parse(Self.digits("A012*345C")).isEmpty)          // * abandons
            #expect(Self.parse(Self.digits("AC")).isEmpty)                 // nothing in it
            #expect(Self.parse(Self.digits("D9C")).isEmpty)                // unknown code
            #expect(Self.parse(Self.digits("A" + String(repeating: "1", count: 40) + "C")).isEmpty)
            // A start key, then a long silence: what follows is not part of it.
            var late = Self.digits("A123")
            late += Self.digits("456C", at: 200_000)
            #expect(Self.parse(late).isEmpty)
            // A new A restarts the message.
            #expect(Self.parse(Self.digits("A99A123C")).map(\.number) == ["123"])
            // The parser keeps going after a complete message.
            #expect(Self.parse(Self.digits("A1CA2C")).map(\.number) == ["1", "2"])
        }

        /// The whole path: tones → DTMFDetector → parser, at both rates, in noise.
        @Test(arguments: [8000, 16000]) func fromTheLine(rate: Int) {
            for (keys, expected) in [("A0123456789C", CallerID(number: "0123456789", format: .dtmf, startFrame: 0, endFrame: 0)),
                                     ("D3C", CallerID(absenceReason: "unavailable", format: .dtmf, startFrame: 0, endFrame: 0))] {
                var signal = SignalBuilder(rate: rate)
                signal.silence(seconds: 0.2)
                var spans: [(start: UInt64, end: UInt64)] = []
                for key in keys {
                    spans.append(signal.key(key, seconds: 0.07, dBFS: -18, twist: -2))
                    signal.silence(seconds: 0.07)
                }
                signal.silence(seconds: 0.2)
                signal.addNoise(snr: 20, over: Int(spans[0].start)..<Int(spans[0].end), seed: 77)
                var parser = DTMFCallerIDParser()
                let ids = Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)).compactMap { parser.feed($0) }
                #expect(ids.count == 1)
                guard let id = ids.first else { continue }
                #expect(id.number == expected.number && id.absenceReason == expected.absenceReason && id.format == .dtmf)
                #expect(abs(Int(id.startFrame) - Int(spans.first!.start)) < rate / 100)
                #expect(abs(Int(id.endFrame) - Int(spans.last!.end)) < rate / 100)
            }
        }
    }
}
