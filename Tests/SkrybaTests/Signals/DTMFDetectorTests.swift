import Foundation
import Testing
import SkrybaPipeline
import SkrybaSignals
import SkrybaSystem

extension Signals {
    /// DTMF on signals made by our own generator and by sox; boundaries within one 10 ms analysis block.
    @Suite struct DTMFDetectorTests {
        struct Case: CustomTestStringConvertible, Sendable {
            var rate: Int
            var blocks: [Int]
            var testDescription: String { "\(rate) Hz, blocks \(blocks.count == 1 ? "\(blocks[0])" : "odd")" }
        }
        static let cases = [8000, 16000].flatMap { rate in [Case(rate: rate, blocks: Feed.periods(rate: rate)), Case(rate: rate, blocks: Feed.odd)] }

        /// One analysis block: the promised accuracy of every boundary.
        static func tolerance(_ rate: Int) -> UInt64 { UInt64(rate / 100) }

        /// Checks keys in order and each boundary against the truth.
        static func expect(_ digits: [DTMFDigit], _ truth: [(key: Character, start: UInt64, end: UInt64)], rate: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(String(digits.map(\.key)) == String(truth.map(\.key)), sourceLocation: sourceLocation)
            let slack = tolerance(rate)
            for (digit, expected) in zip(digits, truth) {
                let startError = digit.startFrame > expected.start ? digit.startFrame - expected.start : expected.start - digit.startFrame
                let endError = digit.endFrame > expected.end ? digit.endFrame - expected.end : expected.end - digit.endFrame
                #expect(startError < slack && endError < slack,
                        "\(digit.key): detected \(digit.startFrame)..<\(digit.endFrame), true \(expected.start)..<\(expected.end)", sourceLocation: sourceLocation)
            }
        }

        /// All 16 keys, varied durations and pauses, unaligned with the blocks.
        static func sixteenKeys(rate: Int, dBFS: Double = -20, twist: Double = 0, frequencyScale: Double = 1) -> (SignalBuilder, [(key: Character, start: UInt64, end: UInt64)]) {
            var signal = SignalBuilder(rate: rate)
            signal.silence(seconds: 0.0123)
            var truth: [(key: Character, start: UInt64, end: UInt64)] = []
            for (index, key) in DTMFKeys.all.enumerated() {
                let (start, end) = signal.key(key, seconds: 0.045 + 0.0071 * Double(index), dBFS: dBFS, twist: twist, frequencyScale: frequencyScale)
                truth.append((key, start, end))
                signal.silence(seconds: 0.043 + 0.0053 * Double(index % 5))
            }
            return (signal, truth)
        }

        @Test(arguments: cases) func allSixteenKeysWithFrameBoundaries(_ test: Case) {
            let (signal, truth) = Self.sixteenKeys(rate: test.rate)
            let digits = Feed.dtmf(signal.int16, rate: test.rate, blocks: test.blocks, startFrame: 1_000_003)
            Self.expect(digits, truth.map { ($0.key, $0.start + 1_000_003, $0.end + 1_000_003) }, rate: test.rate)
        }

        /// Keys from sox, concatenated: 50 ms silence, 100 ms tone, 50 ms silence each.
        @Test(arguments: [8000, 16000]) func keysMadeBySox(rate: Int) throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-dtmf-sox")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var samples: [Int16] = []
            var truth: [(key: Character, start: UInt64, end: UInt64)] = []
            for key in DTMFKeys.all {
                let piece = try ExternalSignals.soxKey(key, rate: rate, directory: directory)
                #expect(piece.count == rate / 5)
                let base = UInt64(samples.count)
                truth.append((key, base + UInt64(rate / 20), base + UInt64(rate * 3 / 20)))
                samples += piece
            }
            for blocks in [Feed.periods(rate: rate), Feed.odd] {
                Self.expect(Feed.dtmf(samples, rate: rate, blocks: blocks), truth, rate: rate)
            }
        }

        @Test(arguments: [-6.0, -12, -20, -30]) func levels(dBFS: Double) {
            for rate in [8000, 16000] {
                let (signal, truth) = Self.sixteenKeys(rate: rate, dBFS: dBFS)
                Self.expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)), truth, rate: rate)
            }
        }

        /// Twist = high group minus low group, dB: accepted from -8 (line loss) to +4 (pre-emphasis).
        @Test(arguments: [-8.0, -4, 0, 2, 4]) func acceptedTwist(twist: Double) {
            for dBFS in [-6.0, -24] {
                let (signal, truth) = Self.sixteenKeys(rate: 8000, dBFS: dBFS, twist: twist)
                Self.expect(Feed.dtmf(signal.int16, rate: 8000, blocks: Feed.periods(rate: 8000)), truth, rate: 8000)
            }
        }

        @Test(arguments: [-16.0, 9]) func rejectedTwist(twist: Double) {
            let (signal, _) = Self.sixteenKeys(rate: 8000, dBFS: -12, twist: twist)
            #expect(Feed.dtmf(signal.int16, rate: 8000, blocks: Feed.periods(rate: 8000)).isEmpty)
        }

        /// ITU-T Q.24: a receiver accepts ±1.5% frequency deviation and rejects ±3.5%.
        @Test(arguments: [0.985, 1.015]) func frequencyDeviation(scale: Double) {
            for rate in [8000, 16000] {
                let (signal, truth) = Self.sixteenKeys(rate: rate, frequencyScale: scale)
                Self.expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.odd), truth, rate: rate)
            }
        }

        @Test(arguments: [0.965, 1.035]) func frequencyDeviationBeyondQ24IsRejected(scale: Double) {
            for rate in [8000, 16000] {
                let (signal, _) = Self.sixteenKeys(rate: rate, frequencyScale: scale)
                #expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)).isEmpty)
            }
        }

        /// The limits at once: extreme twist, 1.5% off frequency, 20 dB SNR, 45–150 ms keys.
        @Test(arguments: [(-8.0, 0.985), (-8, 1.015), (4, 0.985), (4, 1.015)]) func worstCasesTogether(twist: Double, scale: Double) {
            for rate in [8000, 16000] {
                for seed in 1...3 as ClosedRange<UInt64> {
                    var (signal, truth) = Self.sixteenKeys(rate: rate, dBFS: -24, twist: twist, frequencyScale: scale)
                    let low = SignalBuilder.amplitude(dBFS: -24), high = SignalBuilder.amplitude(dBFS: -24 + twist)
                    signal.addNoise(rms: sqrt((low * low + high * high) / 2 / 100), seed: seed)
                    Self.expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)), truth, rate: rate)
                }
            }
        }

        /// White noise 20 dB below the tones, several seeds, down to -30 dBFS tones.
        @Test(arguments: [1, 2, 3] as [UInt64]) func whiteNoiseAt20dBSNR(seed: UInt64) {
            for rate in [8000, 16000] {
                for dBFS in [-10.0, -30] {
                    var (signal, truth) = Self.sixteenKeys(rate: rate, dBFS: dBFS)
                    // SNR against the power while a key sounds (the silences would flatter it).
                    let keyPower = truth.reduce(0.0) { sum, key in sum + signal.samples[Int(key.start)..<Int(key.end)].reduce(0) { $0 + $1 * $1 } }
                        / Double(truth.reduce(0) { $0 + Int($1.end - $1.start) })
                    signal.addNoise(rms: sqrt(keyPower / 100), seed: seed &* 31 &+ UInt64(rate))
                    Self.expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)), truth, rate: rate)
                }
            }
        }

        /// Noise, then a ringing burst clipped by the interface (25 Hz at full scale): no key.
        @Test func noiseAndRingingAreNoKey() {
            for rate in [8000, 16000] {
                var signal = SignalBuilder(rate: rate)
                signal.silence(seconds: 5)
                signal.addNoise(rms: SignalBuilder.amplitude(dBFS: -20), seed: 7)
                signal.samples += (0..<rate * 2).map { max(-32767, min(32767, 3 * 32767 * sin(2 * .pi * 25 * Double($0) / Double(rate)))) }
                #expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)).isEmpty)
            }
        }

        /// Q.24 timing: 40 ms tones and 40 ms pauses count; 20 ms tones do not; a 10 ms break in a tone
        /// does not split it.
        @Test(arguments: [8000, 16000]) func durationsAndPauses(rate: Int) {
            for offset in stride(from: 0.0, to: 0.01, by: 0.0013) {  // eight alignments across a block
                var signal = SignalBuilder(rate: rate)
                signal.silence(seconds: 0.05 + offset)
                var truth: [(key: Character, start: UInt64, end: UInt64)] = []
                for key in Array("5599") {
                    let (start, end) = signal.key(key, seconds: 0.040)
                    truth.append((key, start, end))
                    signal.silence(seconds: 0.040)
                }
                signal.key("1", seconds: 0.020)  // too short
                signal.silence(seconds: 0.1)
                let first = signal.key("7", seconds: 0.06)
                signal.silence(seconds: 0.010)    // a drop-out
                let second = signal.key("7", seconds: 0.06)
                truth.append(("7", first.start, second.end))
                signal.silence(seconds: 0.1)
                Self.expect(Feed.dtmf(signal.int16, rate: rate, blocks: Feed.periods(rate: rate)), truth, rate: rate)
            }
        }

        /// A key still sounding when the stream ends comes out of flush, ending where the stream does.
        @Test func flushReturnsASoundingKey() {
            var signal = SignalBuilder(rate: 8000)
            signal.silence(seconds: 0.1)
            let key = signal.key("#", seconds: 0.2)
            var detector = DTMFDetector(sampleRate: 8000)
            let samples = signal.int16
            let during = Feed.each(samples, blocks: [160], startFrame: 0) { detector.process($0, startFrame: $1) }
            #expect(during.isEmpty)
            #expect(detector.flush(endFrame: key.end) == [DTMFDigit(key: "#", startFrame: key.start, endFrame: key.end)])
            #expect(detector.flush(endFrame: key.end).isEmpty)
        }

        /// Dropped audio (a jump in the clock) ends a key at the last frame heard.
        @Test func aJumpInTheClockEndsAKey() {
            var signal = SignalBuilder(rate: 8000)
            let key = signal.key("3", seconds: 0.1)
            var detector = DTMFDetector(sampleRate: 8000)
            let samples = signal.int16
            _ = samples.withUnsafeBufferPointer { detector.process($0, startFrame: 0) }
            let later = [Int16](repeating: 0, count: 160)
            let digits = later.withUnsafeBufferPointer { detector.process($0, startFrame: 50_000) }
            #expect(digits == [DTMFDigit(key: "3", startFrame: 0, endFrame: key.end)])
        }

        /// Talk-off: Polish and English speech from espeak-ng, loud and quiet, must not make a single key.
        @Test(arguments: [8000, 16000]) func speechIsNotDTMF(rate: Int) throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-dtmf-speech")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let sentences = [
                ("pl", "Dzień dobry, Urząd Miasta i Gminy, wydział spraw obywatelskich, w czym mogę pomóc?"),
                ("pl", "Proszę podać numer sprawy: dwa, siedem, dziewięć, osiemset czterdzieści jeden."),
                ("pl", "Rozmowa jest nagrywana. Jeżeli nie zgadzasz się na nagrywanie, naciśnij jeden."),
                ("en", "Good morning, social welfare centre. Please hold the line, your call is important to us."),
                ("en", "The quick brown fox jumps over the lazy dog, nine hundred and ninety nine times."),
            ]
            var speech: [Int16] = []
            for (voice, text) in sentences { speech += try Speech.make(text, voice: voice, directory: directory, rate: rate) }
            #expect(speech.count > rate * 10)
            // A high voice (espeak-ng en+f2 at pitch 70): its 4th and 5th harmonics sit within 2% of
            // 941 and 1209 Hz ('*') in "RODO"; only the purity check over 20 ms tells it apart.
            let path = "\(directory)/high-voice"
            let spoken = try Tool.run("espeak-ng", ["-v", "en+f2", "-p", "70", "-w", "\(path).native.wav",
                                                    "Polish public offices (town halls, social-welfare centres) bound by the GDPR (RODO). The five"])
            #expect(spoken.status == 0)
            #expect(try Tool.run("sox", ["\(path).native.wav", "-r", "\(rate)", "-c", "1", "-b", "16", "\(path).wav"]).status == 0)
            speech += try WAVFile.read(path: "\(path).wav").samples
            for gain in [1.0, 0.1, 2.5] {
                let scaled = speech.map { Int16(max(-32768, min(32767, (Double($0) * gain).rounded()))) }
                let digits = Feed.dtmf(scaled, rate: rate, blocks: Feed.periods(rate: rate))
                #expect(digits.isEmpty, "gain \(gain): \(digits)")
            }
        }
    }
}
