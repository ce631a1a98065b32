/// One DTMF key press on the sample clock. `endFrame` is exclusive: the first frame after the tone.
public struct DTMFDigit: Equatable, Sendable {
    public var key: Character
    public var startFrame: UInt64
    public var endFrame: UInt64

    public init(key: Character, startFrame: UInt64, endFrame: UInt64) {
        self.key = key
        self.startFrame = startFrame
        self.endFrame = endFrame
    }
}

/// A streaming DTMF receiver after ITU-T Q.23/Q.24 (docs/signals.md).
///
/// The audio is cut into 10 ms analysis blocks (80 samples at 8 kHz, 160 at 16 kHz) on the
/// sample clock; each block gets a Goertzel DFT value at the eight DTMF frequencies and is either
/// one key or nothing. A block only counts when the two tones carry most of its energy, so a block
/// that is mostly silence does not, which keeps both tone edges within one block.
/// Runs of blocks become digits: at least 3 blocks (accepts 40 ms tones, rejects 20 ms ones), ended
/// by 3 blocks without the key (a 40 ms pause ends a digit; a 10 ms drop-out does not), and every
/// pair of consecutive blocks must show both tones within 2.5% of their frequency (the phase each
/// advances per block), which is what tells a key from a vowel whose harmonics sit near two tones.
/// Per sample the work is one 8-lane multiply-add; nothing is allocated except a result array
/// when a digit ends.
public struct DTMFDetector: Sendable {
    static let keys: [Character] = ["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"]
    /// Row (low group) then column (high group) frequencies, Hz.
    static let frequencies: [Double] = [697, 770, 852, 941, 1209, 1336, 1477, 1633]

    // Thresholds (docs/signals.md says why each value).
    static let minimumToneLevel = powerRatio(decibels: -42) * fullScalePower
    // Q.24's twist limits, 8 dB (high group weaker: line loss) and 4 dB (high group stronger),
    // plus a margin for how a 10 ms block measures them: the strong tone's sidelobes move the weak
    // one's level by up to ±1.3 dB depending on phase, and a weak high tone 1.5% off frequency reads
    // up to 0.9 dB low. Speech, which has a weak high group, is rejected by the purity check.
    static let normalTwist = powerRatio(decibels: 12)
    static let reverseTwist = powerRatio(decibels: 6)
    // Best tone vs the other three of its group. Adjacent rows leak -9.7 dB into each other in a
    // 10 ms block, and only -6 dB with a 1.5% frequency error, so 3 dB is what separates them.
    static let groupPeakRatio = powerRatio(decibels: 3)
    static let toneEnergyShare = 0.7  // both tones ≥ 70% of the block's energy
    // Over 20 ms a DTMF key's tones leak at most -13 dB into the other six frequencies; a vowel
    // whose harmonics imitate two tones puts another harmonic within -5…-8 dB of one of them.
    static let purity = powerRatio(decibels: 10)
    // Q.24: accept a frequency error up to 1.5%, reject beyond 3.5%. A 10 ms block cannot resolve
    // that, but the phase a tone advances from one block to the next can: 2.5% of 697 Hz is 63°.
    static let frequencyTolerance = 0.025
    static let minimumBlocks = 3
    static let endBlocks = 3

    public let sampleRate: Int
    let blockLength: Int
    let coefficients: SIMD8<Double>
    let sines: SIMD8<Double>
    /// e^(-jωN): the phase a tone exactly on frequency advances over one block, to take away.
    let advanceCos: SIMD8<Double>, advanceSin: SIMD8<Double>
    /// cos of the largest phase error per block that `frequencyTolerance` allows.
    let phaseLimit: SIMD8<Double>
    let powerScale: Double

    // The block being accumulated.
    var s1 = SIMD8<Double>(), s2 = SIMD8<Double>()
    var energy = 0.0
    var filled = 0
    var blockStart: UInt64 = 0
    var nextFrame: UInt64?
    // The previous block: its key and its DFT values at the eight frequencies.
    var previousFound = -1
    var previousReal = SIMD8<Double>(), previousImaginary = SIMD8<Double>()

    // The key being tracked across blocks.
    var key = -1
    var keyStart: UInt64 = 0
    var keyEnd: UInt64 = 0
    var hits = 0
    var misses = 0
    var frequencyChecked = false
    var frequencyFailed = false
    var purePairs = 0

    public init(sampleRate: Int) {
        precondition(sampleRate >= 8000 && sampleRate <= 48000 && sampleRate % 100 == 0, "DTMF needs a rate of 8000…48000 Hz in steps of 100")
        self.sampleRate = sampleRate
        blockLength = sampleRate / 100
        var coefficients = SIMD8<Double>(), sines = SIMD8<Double>(), phaseLimit = SIMD8<Double>()
        var advanceCos = SIMD8<Double>(), advanceSin = SIMD8<Double>()
        for (lane, frequency) in Self.frequencies.enumerated() {
            let omega = 2 * Double.pi * frequency / Double(sampleRate)
            let (sin, cos) = sineAndCosine(omega)
            coefficients[lane] = 2 * cos
            sines[lane] = sin
            (advanceSin[lane], advanceCos[lane]) = sineAndCosine(-omega * Double(blockLength))
            phaseLimit[lane] = sineAndCosine(omega * Self.frequencyTolerance * Double(blockLength)).cos
        }
        self.coefficients = coefficients
        self.sines = sines
        self.advanceCos = advanceCos
        self.advanceSin = advanceSin
        self.phaseLimit = phaseLimit
        // |X|² of a tone of amplitude a over n samples is (a·n/2)²; × 2/n² gives its mean power a²/2.
        powerScale = 2 / Double(blockLength * blockLength)
    }

    /// Feeds samples whose first sample is at `startFrame`; returns the digits that ended in them.
    /// A jump in `startFrame` (dropped audio) ends any digit at the last frame heard.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, startFrame: UInt64) -> [DTMFDigit] {
        var digits: [DTMFDigit] = []
        if nextFrame != startFrame {
            if nextFrame != nil, let digit = endKey() { digits.append(digit) }
            resetBlock(at: startFrame)
            previousFound = -1
        }
        for sample in samples {
            let x = Double(sample)
            let s0 = coefficients * s1 - s2 + SIMD8(repeating: x)
            s2 = s1
            s1 = s0
            energy += x * x
            filled += 1
            if filled == blockLength, let digit = finishBlock() { digits.append(digit) }
        }
        nextFrame = startFrame + UInt64(samples.count)
        return digits
    }

    /// Ends the stream at `endFrame`: returns a digit still sounding (it ends at `endFrame`) or one
    /// whose closing pause was not yet complete; the detector then starts afresh.
    public mutating func flush(endFrame: UInt64) -> [DTMFDigit] {
        if key >= 0 && misses == 0 { keyEnd = max(keyEnd, endFrame) }
        let digit = endKey()
        nextFrame = nil
        previousFound = -1
        resetBlock(at: 0)
        return digit.map { [$0] } ?? []
    }

    mutating func resetBlock(at frame: UInt64) {
        s1 = SIMD8()
        s2 = SIMD8()
        energy = 0
        filled = 0
        blockStart = frame
    }

    /// Classifies the finished block and advances the key tracking.
    mutating func finishBlock() -> DTMFDigit? {
        let found = classify()
        // The block's DFT value times e^(jω(N-1)), from the Goertzel state; that constant
        // rotation cancels between two blocks.
        let real = s1 - coefficients * 0.5 * s2, imaginary = sines * s2
        if found >= 0 && found == key && found == previousFound {
            frequencyChecked = true
            if !onFrequency(found, real, imaginary) { frequencyFailed = true }
            if isPure(found, real, imaginary) { purePairs += 1 }
        }
        previousFound = found
        previousReal = real
        previousImaginary = imaginary

        let start = blockStart, end = blockStart + UInt64(blockLength)
        resetBlock(at: end)
        var ended: DTMFDigit?
        if found >= 0 && found == key {
            hits += 1
            misses = 0
            keyEnd = end
        } else if key >= 0 {
            misses += 1
            // Another key without a pause, or a pause long enough: the current key is over.
            if found >= 0 || misses >= Self.endBlocks { ended = endKey() }
        }
        if found >= 0 && key < 0 {
            key = found
            keyStart = start
            keyEnd = end
            hits = 1
        }
        return ended
    }

    /// Whether both tones of `key` advanced in phase since the previous block as a tone within
    /// `frequencyTolerance` of its nominal frequency would: arg(X·conj(X_prev)·e^(-jωN)) small.
    func onFrequency(_ key: Int, _ real: SIMD8<Double>, _ imaginary: SIMD8<Double>) -> Bool {
        let r = real * previousReal + imaginary * previousImaginary
        let i = imaginary * previousReal - real * previousImaginary
        let zr = r * advanceCos - i * advanceSin, zi = r * advanceSin + i * advanceCos
        func holds(_ lane: Int) -> Bool {
            zr[lane] >= phaseLimit[lane] * (zr[lane] * zr[lane] + zi[lane] * zi[lane]).squareRoot()
        }
        return holds(key / 4) && holds(4 + key % 4)
    }

    /// Over this block and the previous one (20 ms, 50 Hz resolution), whether the six other
    /// frequencies are all `purity` below the key's tone of their group. A vowel whose harmonics
    /// fall near two DTMF tones has more harmonics, and one of them lands near a third frequency.
    func isPure(_ key: Int, _ real: SIMD8<Double>, _ imaginary: SIMD8<Double>) -> Bool {
        // X'_20 = X'_previous + e^(-jωN)·X'_this: the DFT over both blocks at the nominal frequencies.
        let r = previousReal + advanceCos * real - advanceSin * imaginary
        let i = previousImaginary + advanceCos * imaginary + advanceSin * real
        let other = r * r + i * i
        // The key's own tones may be off frequency: add their two blocks in phase instead.
        let aligned = (real * real + imaginary * imaginary).squareRoot() + (previousReal * previousReal + previousImaginary * previousImaginary).squareRoot()
        let tone = aligned * aligned
        let row = key / 4, column = 4 + key % 4
        for lane in 0..<8 where lane != row && lane != column {
            if other[lane] * Self.purity > tone[lane < 4 ? row : column] { return false }
        }
        return true
    }

    mutating func endKey() -> DTMFDigit? {
        defer { key = -1; hits = 0; misses = 0; frequencyChecked = false; frequencyFailed = false; purePairs = 0 }
        guard key >= 0, hits >= Self.minimumBlocks, frequencyChecked, !frequencyFailed, purePairs >= 1 else { return nil }
        return DTMFDigit(key: Self.keys[key], startFrame: keyStart, endFrame: keyEnd)
    }

    /// The key (0…15, row-major) this block carries, or -1.
    func classify() -> Int {
        let power = (s1 * s1 + s2 * s2 - coefficients * s1 * s2) * powerScale
        var row = 0, column = 4
        for lane in 1..<4 where power[lane] > power[row] { row = lane }
        for lane in 5..<8 where power[lane] > power[column] { column = lane }
        let low = power[row], high = power[column]
        guard low >= Self.minimumToneLevel, high >= Self.minimumToneLevel else { return -1 }
        guard high <= low * Self.reverseTwist, high * Self.normalTwist >= low else { return -1 }
        for lane in 0..<8 where lane != row && lane != column {
            if power[lane] * Self.groupPeakRatio > (lane < 4 ? low : high) { return -1 }
        }
        // Talk-off guard: speech and music spread their energy; a key puts nearly all of it in two tones.
        guard low + high >= Self.toneEnergyShare * energy / Double(blockLength) else { return -1 }
        return (row * 4) + (column - 4)
    }
}
