/// A streaming FSK caller-ID receiver: ETSI EN 300 659-1/-3 (V.23) or Bellcore GR-30 (Bell 202),
/// 1200 baud, asynchronous bytes (start 0, 8 data bits LSB first, stop 1). See docs/signals.md.
///
/// Demodulation: two quadrature correlators, mark and space, over a sliding window of one bit;
/// the sign of |mark|² − |space|² is the bit, read in the middle of each bit as timed from the
/// start bit's edge and corrected by every transition inside the byte. A carrier detector (the
/// two tones' share of the signal's power, smoothed over 10 ms) gates everything. A message is only read after at least
/// 40 bits of steady mark with carrier, and only yielded if every byte is framed, the type is a
/// caller-ID type, the length fits and the checksum holds: speech and noise cannot pass all four.
/// Nothing is allocated per sample: the window and the message buffer are sized at initialisation.
public struct FSKCallerIDDecoder: Sendable {
    public enum Modem: Sendable {
        case v23, bell202

        var mark: Double { self == .v23 ? 1300 : 1200 }
        var space: Double { self == .v23 ? 2100 : 2200 }
    }

    static let baud = 1200.0
    static let minimumLevel = powerRatio(decibels: -48) * fullScalePower
    static let carrierOn = 0.9   // normalised tone share: FSK ≈ 1.0, speech ≤ 0.88, white noise ≤ 0.7
    static let carrierOff = 0.75
    static let minimumMarkBits = 40.0
    static let maximumIdleBits = 16.0
    static let timingGain = 0.5

    public let sampleRate: Int
    public let modem: Modem
    let samplesPerBit: Double
    let window: Int
    /// cos/sin of the mark and space references, one full period of both.
    let references: [SIMD4<Double>]
    let toneScale: Double
    let smoothing: Double

    var referenceIndex = 0
    /// Per sample: x·cos/sin for mark and space, and x², over the last `window` samples.
    var products: [SIMD8<Double>]
    var productIndex = 0
    var sums = SIMD8<Double>()
    var previousDecision = 0.0
    var smoothedTone = 0.0
    var smoothedEnergy = 0.0
    var carrier = false
    var carrierStart: UInt64 = 0
    var nextFrame: UInt64?

    enum Receiver {
        case hunting(markSamples: Int)
        case awaitingStart(idleSamples: Int)
        /// `clock`: samples since the start bit's edge, corrected by later transitions;
        /// `edge`: that edge's frame (fractional), which dates the end of the message.
        case inByte(clock: Double, bit: Int, value: UInt8, edge: Double)
    }
    var receiver = Receiver.hunting(markSamples: 0)
    var message: [UInt8] = []
    var messageStart: UInt64 = 0

    public init(sampleRate: Int, modem: Modem = .v23) {
        precondition(sampleRate >= 8000 && sampleRate <= 48000, "FSK caller ID needs a rate of 8000…48000 Hz")
        self.sampleRate = sampleRate
        self.modem = modem
        let rate = Double(sampleRate)
        samplesPerBit = rate / Self.baud
        window = Int(samplesPerBit.rounded())
        // Both references repeat after `rate / gcd(rate, f)` samples; tabulate their common period.
        func period(_ frequency: Double) -> Int {
            var a = sampleRate, b = Int(frequency)
            while b != 0 { (a, b) = (b, a % b) }
            return sampleRate / a
        }
        let markPeriod = period(modem.mark), spacePeriod = period(modem.space)
        var common = markPeriod
        while common % spacePeriod != 0 { common += markPeriod }
        references = (0..<common).map { n in
            let m = sineAndCosine(2 * Double.pi * modem.mark * Double(n) / rate)
            let s = sineAndCosine(2 * Double.pi * modem.space * Double(n) / rate)
            return SIMD4(m.cos, m.sin, s.cos, s.sin)
        }
        // A pure mark tone also leaks into the space correlator (and vice versa) by `leak`;
        // scale so that a clean FSK signal scores 1 against its own mean power.
        let w = Double(window), shift = Double.pi * (modem.space - modem.mark) / rate
        let leak = { let a = sineAndCosine(shift * w).sin, b = w * sineAndCosine(shift).sin; return a * a / (b * b) }()
        toneScale = 2 / (w * w * (1 + leak))
        smoothing = 1 / (0.010 * rate)
        products = Array(repeating: SIMD8(), count: window)
        message.reserveCapacity(258)
    }

    /// Feeds samples whose first sample is at `startFrame`; returns the messages completed in them.
    /// A jump in `startFrame` (dropped audio) abandons a message in progress.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, startFrame: UInt64) -> [CallerID] {
        var results: [CallerID] = []
        if nextFrame != startFrame {
            receiver = .hunting(markSamples: 0)
            carrier = false
        }
        var frame = startFrame
        for sample in samples {
            if let id = step(Double(sample), frame: frame) { results.append(id) }
            frame += 1
        }
        nextFrame = frame
        return results
    }

    mutating func step(_ x: Double, frame: UInt64) -> CallerID? {
        let reference = references[referenceIndex]
        referenceIndex = referenceIndex + 1 == references.count ? 0 : referenceIndex + 1
        let product = SIMD8(x * reference[0], x * reference[1], x * reference[2], x * reference[3], x * x, 0, 0, 0)
        sums += product - products[productIndex]
        products[productIndex] = product
        productIndex = productIndex + 1 == window ? 0 : productIndex + 1

        let mark = sums[0] * sums[0] + sums[1] * sums[1]
        let space = sums[2] * sums[2] + sums[3] * sums[3]
        let decision = mark - space
        defer { previousDecision = decision }

        smoothedTone += smoothing * ((mark + space) * toneScale - smoothedTone)
        smoothedEnergy += smoothing * (sums[4] / Double(window) - smoothedEnergy)
        let share = smoothedTone / max(smoothedEnergy, 1)
        if carrier {
            if share < Self.carrierOff || smoothedEnergy < Self.minimumLevel / 2 {
                carrier = false
                receiver = .hunting(markSamples: 0)
            }
        } else if share >= Self.carrierOn && smoothedEnergy >= Self.minimumLevel {
            carrier = true
            // The share reaches the threshold once the correlation window is nearly full of tone.
            carrierStart = frame - min(frame, UInt64(window))
        }

        switch receiver {
        case .hunting(let markSamples):
            let run = carrier && decision > 0 ? markSamples + 1 : 0
            if Double(run) >= Self.minimumMarkBits * samplesPerBit {
                message.removeAll(keepingCapacity: true)
                messageStart = carrierStart
                receiver = .awaitingStart(idleSamples: 0)
            } else {
                receiver = .hunting(markSamples: run)
            }
        case .awaitingStart(let idle):
            if !carrier {
                receiver = .hunting(markSamples: 0)
            } else if decision < 0 && previousDecision >= 0 {
                // The crossing lies between the previous sample and this one.
                let fraction = previousDecision / (previousDecision - decision)
                receiver = .inByte(clock: 1 - fraction, bit: 0, value: 0, edge: Double(frame) - 1 + fraction)
            } else if !message.isEmpty && Double(idle) > Self.maximumIdleBits * samplesPerBit {
                receiver = .hunting(markSamples: 0)
            } else {
                receiver = .awaitingStart(idleSamples: idle + 1)
            }
        case .inByte(var clock, var bit, var value, let edge):
            // Sample each bit in its middle: half a bit after the crossing, then every bit. At 8 kHz
            // a bit is 6.7 samples and the eye is open for only ±0.1 bit around the middle, so the
            // decision is interpolated between the two samples either side of the ideal instant.
            clock += 1
            if (decision < 0) != (previousDecision < 0) {
                // A transition between bits: pull the clock halfway towards it (one start edge
                // alone leaves the whole byte to that edge's noise).
                let crossing = clock - 1 + previousDecision / (previousDecision - decision)
                let boundary = (crossing / samplesPerBit).rounded()
                let error = crossing - boundary * samplesPerBit
                if boundary >= 1 && boundary <= 9 && abs(error) < 0.35 * samplesPerBit { clock -= Self.timingGain * error }
            }
            let target = (Double(bit) + 0.5) * samplesPerBit
            if clock >= target {
                let between = min(max(target - clock + 1, 0), 1)  // where the instant lies past the previous sample
                let isMark = previousDecision + (decision - previousDecision) * between > 0
                switch bit {
                case 0 where isMark:  // a glitch, not a start bit
                    receiver = .awaitingStart(idleSamples: 0)
                    return nil
                case 1...8:
                    if isMark { value |= 1 << UInt8(bit - 1) }
                case 9:
                    guard isMark else {  // framing error
                        receiver = .hunting(markSamples: 0)
                        return nil
                    }
                    receiver = .awaitingStart(idleSamples: 0)
                    return received(value, edge: edge)
                default:
                    break
                }
                bit += 1
            }
            receiver = .inByte(clock: clock, bit: bit, value: value, edge: edge)
        }
        return nil
    }

    /// Adds one byte; checks the type and length as soon as they arrive, and the whole message
    /// when its checksum arrives.
    mutating func received(_ byte: UInt8, edge: Double) -> CallerID? {
        message.append(byte)
        switch message.count {
        case 1 where byte != 0x04 && byte != 0x80, 2 where byte < 3:
            receiver = .hunting(markSamples: 0)
            return nil
        case 3...:
            guard message.count == Int(message[1]) + 3 else { return nil }
            receiver = .hunting(markSamples: 0)
            // The decision crosses zero once the window is half into the start bit: undo that delay.
            let end = edge - Double(window - 1) / 2 + 10 * samplesPerBit
            return CallerID.parse(message: message, startFrame: messageStart, endFrame: UInt64(max(end.rounded(), 0)))
        default:
            return nil
        }
    }
}
