import Foundation
import Testing
import SkrybaPipeline
import SkrybaSignals
import SkrybaSystem

extension Signals {
    /// FSK caller ID (V.23 / Bell 202, SDMF / MDMF) from our own phase-continuous modulator.
    @Suite struct FSKCallerIDTests {
        struct Case: CustomTestStringConvertible, Sendable {
            var rate: Int
            var standard: FSKModulator.Standard
            var blocks: [Int]
            var modem: FSKCallerIDDecoder.Modem { standard == .v23 ? .v23 : .bell202 }
            var testDescription: String { "\(standard) \(rate) Hz, blocks \(blocks.count == 1 ? "\(blocks[0])" : "odd")" }
        }
        static let cases = [FSKModulator.Standard.v23, .bell202].flatMap { standard in
            [8000, 16000].flatMap { rate in [Case(rate: rate, standard: standard, blocks: Feed.periods(rate: rate)), Case(rate: rate, standard: standard, blocks: Feed.odd)] }
        }

        static let sdmf = CallerIDMessage.sdmf(date: "03141526", number: "48914243000")
        static let mdmf = CallerIDMessage.mdmf([
            (0x01, Array("12312359".utf8)), (0x02, Array("0048123456789".utf8)), (0x07, Array("URZAD GMINY HALINOW".utf8)),
        ])

        static func decode(_ signal: SignalBuilder, _ test: Case) -> [CallerID] {
            Feed.fsk(signal.int16, rate: test.rate, modem: test.modem, blocks: test.blocks)
        }

        /// One transmission between silences; checks the fields and that start/end are on the clock:
        /// the start within 4 ms of the first bit, the end within a bit of the checksum's stop bit.
        static func expectOne(_ ids: [CallerID], _ expected: CallerID, span: (start: UInt64, end: UInt64), rate: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(ids.count == 1, "\(ids)", sourceLocation: sourceLocation)
            guard let id = ids.first else { return }
            var fields = id
            fields.startFrame = expected.startFrame
            fields.endFrame = expected.endFrame
            #expect(fields == expected, sourceLocation: sourceLocation)
            let startError = abs(Int(id.startFrame) - Int(span.start)), endError = abs(Int(id.endFrame) - Int(span.end))
            #expect(startError <= rate / 250, "start \(id.startFrame), true \(span.start)", sourceLocation: sourceLocation)
            #expect(endError <= rate / 1200 + 1, "end \(id.endFrame), true \(span.end)", sourceLocation: sourceLocation)
        }

        static let sdmfExpected = CallerID(number: "48914243000", dateTime: "03141526", format: .fskSDMF, startFrame: 0, endFrame: 0)
        static let mdmfExpected = CallerID(number: "0048123456789", name: "URZAD GMINY HALINOW", dateTime: "12312359", format: .fskMDMF, startFrame: 0, endFrame: 0)

        @Test(arguments: cases) func sdmfNumberAndDate(_ test: Case) {
            var signal = SignalBuilder(rate: test.rate)
            signal.silence(seconds: 0.3)
            let span = signal.fsk(Self.sdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate))
            signal.silence(seconds: 0.3)
            Self.expectOne(Self.decode(signal, test), Self.sdmfExpected, span: span, rate: test.rate)
        }

        @Test(arguments: cases) func mdmfNumberNameAndDate(_ test: Case) {
            var signal = SignalBuilder(rate: test.rate)
            signal.silence(seconds: 0.2)
            let span = signal.fsk(Self.mdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate))
            signal.silence(seconds: 0.2)
            Self.expectOne(Self.decode(signal, test), Self.mdmfExpected, span: span, rate: test.rate)
        }

        /// Absent number and name: MDMF reason parameters and SDMF's 'O'/'P' in place of the number.
        @Test(arguments: cases) func privateAndUnavailable(_ test: Case) {
            let messages: [([UInt8], CallerID)] = [
                (CallerIDMessage.mdmf([(0x01, Array("01020304".utf8)), (0x04, [UInt8(ascii: "P")]), (0x08, [UInt8(ascii: "P")])]),
                 CallerID(dateTime: "01020304", absenceReason: "private", format: .fskMDMF, startFrame: 0, endFrame: 0)),
                (CallerIDMessage.mdmf([(0x04, [UInt8(ascii: "O")]), (0x07, Array("Kowalski Jan".utf8))]),
                 CallerID(name: "Kowalski Jan", absenceReason: "unavailable", format: .fskMDMF, startFrame: 0, endFrame: 0)),
                (CallerIDMessage.sdmf(date: "11111111", number: "P"),
                 CallerID(dateTime: "11111111", absenceReason: "private", format: .fskSDMF, startFrame: 0, endFrame: 0)),
                (CallerIDMessage.sdmf(date: "02290000", number: "O"),
                 CallerID(dateTime: "02290000", absenceReason: "unavailable", format: .fskSDMF, startFrame: 0, endFrame: 0)),
            ]
            for (message, expected) in messages {
                var signal = SignalBuilder(rate: test.rate)
                signal.silence(seconds: 0.1)
                let span = signal.fsk(message, modulator: FSKModulator(standard: test.standard, rate: test.rate))
                signal.silence(seconds: 0.1)
                Self.expectOne(Self.decode(signal, test), expected, span: span, rate: test.rate)
            }
        }

        @Test(arguments: [-6.0, -20, -35, -42]) func levels(dBFS: Double) {
            for test in Self.cases where test.blocks.count == 1 {
                var signal = SignalBuilder(rate: test.rate)
                signal.silence(seconds: 0.1)
                let span = signal.fsk(Self.mdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate, dBFS: dBFS))
                signal.silence(seconds: 0.1)
                Self.expectOne(Self.decode(signal, test), Self.mdmfExpected, span: span, rate: test.rate)
            }
        }

        /// White noise 20 dB below the FSK signal, throughout (also before and after it).
        @Test(arguments: [11, 12, 13, 14, 15] as [UInt64]) func whiteNoiseAt20dBSNR(seed: UInt64) {
            for test in Self.cases where test.blocks.count == 1 {
                for dBFS in [-10.0, -30] {
                    var signal = SignalBuilder(rate: test.rate)
                    signal.silence(seconds: 0.2)
                    let span = signal.fsk(Self.mdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate, dBFS: dBFS))
                    signal.silence(seconds: 0.2)
                    signal.addNoise(snr: 20, over: Int(span.start)..<Int(span.end), seed: seed &* 977 &+ UInt64(test.rate))
                    Self.expectOne(Self.decode(signal, test), Self.mdmfExpected, span: span, rate: test.rate)
                }
            }
        }

        /// A sloppy exchange: both tones ±1.5% off, and the baud rate ±1% (ETSI's tolerance).
        @Test(arguments: [(0.985, 1.0), (1.015, 1.0), (1.0, 0.99), (1.0, 1.01), (1.015, 1.01), (0.985, 0.99)])
        func frequencyAndBaudOffsets(frequencyScale: Double, baudScale: Double) {
            for test in Self.cases where test.blocks.count == 1 {
                var signal = SignalBuilder(rate: test.rate)
                signal.silence(seconds: 0.1)
                let modulator = FSKModulator(standard: test.standard, rate: test.rate, frequencyScale: frequencyScale, baudScale: baudScale)
                let span = signal.fsk(Self.sdmf, modulator: modulator, gapBits: 3)
                signal.silence(seconds: 0.1)
                signal.addNoise(snr: 25, over: Int(span.start)..<Int(span.end), seed: 5)
                Self.expectOne(Self.decode(signal, test), Self.sdmfExpected, span: span, rate: test.rate)
            }
        }

        /// Without channel seizure, only 80 mark bits (ETSI's off-hook / type 2 variant), and with mark
        /// bits between bytes: still decoded.
        @Test(arguments: cases) func shortPreambleAndGapsBetweenBytes(_ test: Case) {
            var signal = SignalBuilder(rate: test.rate)
            signal.silence(seconds: 0.1)
            let span = signal.fsk(Self.mdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate), seizureBits: 0, markBits: 80, gapBits: 7)
            signal.silence(seconds: 0.1)
            Self.expectOne(Self.decode(signal, test), Self.mdmfExpected, span: span, rate: test.rate)
        }

        /// Speech before and after (espeak-ng, Polish and English), with silences: one caller ID, and
        /// the speech alone yields none.
        @Test(arguments: [8000, 16000]) func amidSpeech(rate: Int) throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-fsk-speech")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let before = try Speech.make("Halo, czy to urząd gminy? Chciałbym zapytać o podatek od nieruchomości.", voice: "pl", directory: directory, rate: rate)
            let after = try Speech.make("Yes, this is the town hall, how can I help you today?", voice: "en", directory: directory, rate: rate)
            for standard in [FSKModulator.Standard.v23, .bell202] {
                let test = Case(rate: rate, standard: standard, blocks: Feed.periods(rate: rate))
                var signal = SignalBuilder(rate: rate)
                signal.append(before)
                signal.silence(seconds: 0.25)
                let span = signal.fsk(Self.mdmf, modulator: FSKModulator(standard: standard, rate: rate, dBFS: -18))
                signal.silence(seconds: 0.25)
                signal.append(after)
                signal.addNoise(rms: SignalBuilder.amplitude(dBFS: -50), seed: 3)
                Self.expectOne(Self.decode(signal, test), Self.mdmfExpected, span: span, rate: rate)

                var speechOnly = SignalBuilder(rate: rate)
                for gain in [1.0, 0.3, 3.0] { speechOnly.samples += (before + after).map { Double($0) * gain } }
                #expect(Self.decode(speechOnly, test).isEmpty)
            }
        }

        /// Two calls' caller IDs in one stream, fed as the worker does: both, in order.
        @Test(arguments: cases) func twoMessagesInOneStream(_ test: Case) {
            var signal = SignalBuilder(rate: test.rate)
            signal.silence(seconds: 0.5)
            let first = signal.fsk(Self.sdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate))
            signal.silence(seconds: 2)
            let second = signal.fsk(Self.mdmf, modulator: FSKModulator(standard: test.standard, rate: test.rate))
            signal.silence(seconds: 0.5)
            let ids = Self.decode(signal, test)
            #expect(ids.count == 2)
            if ids.count == 2 {
                Self.expectOne([ids[0]], Self.sdmfExpected, span: first, rate: test.rate)
                Self.expectOne([ids[1]], Self.mdmfExpected, span: second, rate: test.rate)
            }
        }

        /// A wrong checksum, a flipped data bit, a length that disagrees, a type that is not caller ID,
        /// a parameter overrunning its message: nothing comes out, and nothing traps.
        @Test(arguments: cases) func damagedMessagesYieldNothing(_ test: Case) {
            var badChecksum = Self.mdmf
            badChecksum[badChecksum.count - 1] &+= 1
            var flippedBit = Self.sdmf
            flippedBit[5] ^= 0x10
            var longerLength = Self.sdmf
            longerLength[1] += 1
            let messageWaiting = CallerIDMessage.withChecksum([0x82, 0x03, 0x0B, 0x01, 0xFF])
            let overrun = CallerIDMessage.withChecksum([0x80, 0x04, 0x02, 0x09, 0x31, 0x32])
            let badDate = CallerIDMessage.mdmf([(0x01, Array("12AB2359".utf8)), (0x02, Array("123".utf8))])
            let controlInNumber = CallerIDMessage.sdmf(date: "01010101", number: "12\u{07}4")
            for message in [badChecksum, flippedBit, longerLength, messageWaiting, overrun, badDate, controlInNumber] {
                var signal = SignalBuilder(rate: test.rate)
                signal.silence(seconds: 0.1)
                signal.fsk(message, modulator: FSKModulator(standard: test.standard, rate: test.rate))
                signal.silence(seconds: 0.2)
                #expect(Self.decode(signal, test).isEmpty, "message \(message)")
            }
        }

        /// Random bits behind a proper preamble, then noise, then a ringing burst clipped by the
        /// interface (25 Hz at full scale, harmonics every 50 Hz through both FSK tones): no caller ID.
        @Test(arguments: [8000, 16000]) func garbageYieldsNothing(rate: Int) {
            var generator = SeededGenerator(seed: 42)
            for standard in [FSKModulator.Standard.v23, .bell202] {
                let test = Case(rate: rate, standard: standard, blocks: Feed.periods(rate: rate))
                var signal = SignalBuilder(rate: rate)
                for _ in 0..<20 {
                    var bits: [Bool] = (0..<300).map { $0 % 2 == 1 } + Array(repeating: true, count: 180)
                    bits += (0..<400).map { _ in Bool.random(using: &generator) }
                    signal.samples += FSKModulator(standard: standard, rate: rate).modulate(bits: bits)
                    signal.silence(seconds: 0.1)
                }
                signal.silence(seconds: 10)
                signal.addNoise(rms: SignalBuilder.amplitude(dBFS: -25), seed: 9)
                #expect(Self.decode(signal, test).isEmpty)
            }
        }
    }
}
