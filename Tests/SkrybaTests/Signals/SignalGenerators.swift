import Foundation
import SkrybaPipeline
import SkrybaSignals

// Test signals made here from the standards' own numbers, sharing no code with the detectors.

/// The signal-detection suites (`swift test --filter Signals`).
enum Signals {}

/// A timeline of samples (as Double, quantised at the end) with the true positions of what was put in.
struct SignalBuilder {
    let rate: Int
    var samples: [Double] = []
    var frame: UInt64 { UInt64(samples.count) }

    init(rate: Int) { self.rate = rate }

    static func amplitude(dBFS: Double) -> Double { 32767 * pow(10, dBFS / 20) }

    mutating func silence(seconds: Double) { samples += Array(repeating: 0, count: Int((seconds * Double(rate)).rounded())) }

    /// Sum of sines, each `(frequency, dBFS)`, with arbitrary starting phases.
    mutating func tones(_ tones: [(frequency: Double, dBFS: Double)], seconds: Double, phase: Double = 0.3) {
        let count = Int((seconds * Double(rate)).rounded())
        for n in 0..<count {
            var value = 0.0
            for (index, tone) in tones.enumerated() {
                value += Self.amplitude(dBFS: tone.dBFS) * sin(2 * .pi * tone.frequency * Double(n) / Double(rate) + phase * Double(index + 1))
            }
            samples.append(value)
        }
    }

    mutating func append(_ other: [Int16]) { samples += other.map(Double.init) }

    /// Adds white Gaussian noise at `snr` dB below the mean power of samples[range] (the signal).
    mutating func addNoise(snr: Double, over range: Range<Int>? = nil, seed: UInt64) {
        let region = range ?? 0..<samples.count
        let power = samples[region].reduce(0) { $0 + $1 * $1 } / Double(max(region.count, 1))
        addNoise(rms: sqrt(power / pow(10, snr / 10)), seed: seed)
    }

    mutating func addNoise(rms: Double, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for index in samples.indices { samples[index] += rms * generator.gaussian() }
    }

    var int16: [Int16] { samples.map { Int16(max(-32768, min(32767, $0.rounded()))) } }
}

/// SplitMix64: the same noise on every run and platform, so a failure reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Box–Muller.
    mutating func gaussian() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self), u2 = Double.random(in: 0..<1, using: &self)
        return sqrt(-2 * log(u1)) * cos(2 * .pi * u2)
    }
}

/// ITU-T Q.23 key frequencies.
enum DTMFKeys {
    static let all: [Character] = Array("123A456B789C*0#D")
    static func frequencies(_ key: Character) -> (low: Double, high: Double) {
        let index = all.firstIndex(of: key)!
        return ([697.0, 770, 852, 941][index / 4], [1209.0, 1336, 1477, 1633][index % 4])
    }
}

extension SignalBuilder {
    /// A key press; returns its true [start, end) frames. `twist` = high-group level minus low-group level.
    @discardableResult
    mutating func key(_ key: Character, seconds: Double, dBFS: Double = -20, twist: Double = 0, frequencyScale: Double = 1) -> (start: UInt64, end: UInt64) {
        let start = frame
        let (low, high) = DTMFKeys.frequencies(key)
        tones([(low * frequencyScale, dBFS), (high * frequencyScale, dBFS + twist)], seconds: seconds, phase: Double(start % 7) * 0.4)
        return (start, frame)
    }
}

/// An FSK transmitter: a phase-continuous oscillator switched between mark and space at 1200 baud.
struct FSKModulator {
    enum Standard { case v23, bell202 }
    var standard: Standard
    var rate: Int
    var dBFS = -15.0
    /// Multiplies both tone frequencies (the ±1.5% of a sloppy exchange) and, separately, the baud rate.
    var frequencyScale = 1.0
    var baudScale = 1.0

    var mark: Double { (standard == .v23 ? 1300 : 1200) * frequencyScale }
    var space: Double { (standard == .v23 ? 2100 : 2200) * frequencyScale }

    func modulate(bits: [Bool]) -> [Double] {
        let samplesPerBit = Double(rate) / (1200 * baudScale)
        let count = Int((Double(bits.count) * samplesPerBit).rounded())
        let amplitude = SignalBuilder.amplitude(dBFS: dBFS)
        var phase = 0.0
        return (0..<count).map { n in
            let bit = bits[min(Int(Double(n) / samplesPerBit), bits.count - 1)]
            let value = amplitude * sin(phase)
            phase += 2 * .pi * (bit ? mark : space) / Double(rate)
            return value
        }
    }
}

/// Caller-ID messages framed as ETSI EN 300 659-3 / Bellcore GR-30 put them on the line.
enum CallerIDMessage {
    static func sdmf(date: String, number: String) -> [UInt8] {
        withChecksum([0x04] + [UInt8(date.utf8.count + number.utf8.count)] + Array(date.utf8) + Array(number.utf8))
    }

    /// MDMF call set-up (type 0x80) with `(parameter type, value)` pairs in the given order.
    static func mdmf(_ parameters: [(UInt8, [UInt8])]) -> [UInt8] {
        let body = parameters.flatMap { [$0.0, UInt8($0.1.count)] + $0.1 }
        return withChecksum([0x80, UInt8(body.count)] + body)
    }

    static func withChecksum(_ bytes: [UInt8]) -> [UInt8] {
        let sum = bytes.reduce(UInt8(0)) { $0 &+ $1 }
        return bytes + [0 &- sum]
    }

    /// Channel seizure (alternating bits), mark signal, then each byte as start bit, 8 data bits
    /// LSB first, stop bit; `gapBits` extra mark bits between bytes; `trailingMarkBits` at the end.
    static func bits(_ bytes: [UInt8], seizureBits: Int = 300, markBits: Int = 180, gapBits: Int = 0, trailingMarkBits: Int = 2) -> [Bool] {
        var bits: [Bool] = (0..<seizureBits).map { $0 % 2 == 1 }
        bits += Array(repeating: true, count: markBits)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { bits += Array(repeating: true, count: gapBits) }
            bits.append(false)
            bits += (0..<8).map { byte >> $0 & 1 == 1 }
            bits.append(true)
        }
        return bits + Array(repeating: true, count: trailingMarkBits)
    }
}

extension SignalBuilder {
    /// Puts a whole FSK transmission on the timeline; returns its first frame and the frame after
    /// the checksum's stop bit.
    @discardableResult
    mutating func fsk(_ message: [UInt8], modulator: FSKModulator, seizureBits: Int = 300, markBits: Int = 180, gapBits: Int = 0) -> (start: UInt64, end: UInt64) {
        let start = frame
        let bits = CallerIDMessage.bits(message, seizureBits: seizureBits, markBits: markBits, gapBits: gapBits)
        samples += modulator.modulate(bits: bits)
        let samplesPerBit = Double(rate) / (1200 * modulator.baudScale)
        return (start, start + UInt64((Double(bits.count - 2) * samplesPerBit).rounded()))
    }
}

/// Feeds samples as the line worker does: consecutive blocks on the sample clock.
enum Feed {
    /// 20 ms periods (160 samples at 8 kHz) — what the appliance delivers.
    static func periods(rate: Int) -> [Int] { [rate / 50] }
    /// Awkward sizes that straddle every internal boundary.
    static let odd = [1, 7, 13, 333, 41, 2, 97, 160, 59]

    static func dtmf(_ samples: [Int16], rate: Int, blocks: [Int], startFrame: UInt64 = 0) -> [DTMFDigit] {
        var detector = DTMFDetector(sampleRate: rate)
        var digits = each(samples, blocks: blocks, startFrame: startFrame) { detector.process($0, startFrame: $1) }
        digits += detector.flush(endFrame: startFrame + UInt64(samples.count))
        return digits
    }

    static func fsk(_ samples: [Int16], rate: Int, modem: FSKCallerIDDecoder.Modem, blocks: [Int], startFrame: UInt64 = 0) -> [CallerID] {
        var decoder = FSKCallerIDDecoder(sampleRate: rate, modem: modem)
        return each(samples, blocks: blocks, startFrame: startFrame) { decoder.process($0, startFrame: $1) }
    }

    static func each<T>(_ samples: [Int16], blocks: [Int], startFrame: UInt64, _ body: (UnsafeBufferPointer<Int16>, UInt64) -> [T]) -> [T] {
        var results: [T] = []
        samples.withUnsafeBufferPointer { buffer in
            var offset = 0, block = 0
            while offset < buffer.count {
                let count = min(blocks[block % blocks.count], buffer.count - offset)
                results += body(UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]), startFrame + UInt64(offset))
                offset += count
                block += 1
            }
        }
        return results
    }
}

/// External tools' signals: sox for DTMF, espeak-ng (through sox) for speech.
enum ExternalSignals {
    /// One key from sox: `silence` s, a `tone` s pair at -20 dBFS per tone (`remix -` averages the
    /// two sines to -6 dBFS each; `gain -14` brings them to -20), `silence` s.
    static func soxKey(_ key: Character, rate: Int, directory: String, tone: Double = 0.1, silence: Double = 0.05) throws -> [Int16] {
        let (low, high) = DTMFKeys.frequencies(key)
        let path = "\(directory)/key-\(key.unicodeScalars.first!.value)-\(rate).wav"
        let result = try Tool.run("sox", [
            "-D", "-n", "-r", "\(rate)", "-b", "16", "-c", "1", path,
            "synth", "\(tone)", "sine", "\(low)", "sine", "\(high)", "remix", "-", "gain", "-14",
            "pad", "\(silence)", "\(silence)",
        ])
        guard result.status == 0 else { throw ToolFailure("sox failed: \(result.output)") }
        return try WAVFile.read(path: path).samples
    }
}
