import Foundation

/// Line signals as an exchange or a telephone produces them, for the simulator. Written from the
/// standards (ETSI EN 300 659-1/-3, ITU-T V.23, Bellcore GR-30, ITU-T Q.23), independently of
/// the detectors in SkrybaSignals.
public enum SignalSynthesis {
    /// Caller-ID message formats.
    public enum CallerIDFormat: String, Sendable, CaseIterable {
        case fskMDMF = "fsk-mdmf", fskSDMF = "fsk-sdmf", dtmf
    }

    /// The CLIP message bytes, checksum included. `dateTime` is "MMDDHHMM".
    public static func callerIDMessage(number: String, dateTime: String, format: CallerIDFormat) -> [UInt8] {
        var body: [UInt8]
        switch format {
        case .fskSDMF:
            body = [0x04, UInt8(dateTime.utf8.count + number.utf8.count)] + Array(dateTime.utf8) + Array(number.utf8)
        case .fskMDMF, .dtmf:
            let parameters: [UInt8] = [0x01, UInt8(dateTime.utf8.count)] + Array(dateTime.utf8)
                + [0x02, UInt8(number.utf8.count)] + Array(number.utf8)
            body = [0x80, UInt8(parameters.count)] + parameters
        }
        let sum = body.reduce(UInt8(0)) { $0 &+ $1 }
        return body + [0 &- sum]
    }

    /// V.23 FSK (1200 baud; mark 1300 Hz, space 2100 Hz): 300 bits of channel seizure, 180 mark
    /// bits, then each byte as start bit, 8 data bits LSB first, stop bit. Phase-continuous.
    public static func fskCallerID(_ message: [UInt8], rate: Int, amplitude: Double = 6000) -> [Int16] {
        var bits: [Bool] = (0..<300).map { $0 % 2 == 1 } + Array(repeating: true, count: 180)
        for byte in message {
            bits.append(false)
            for bit in 0..<8 { bits.append(byte >> bit & 1 == 1) }
            bits.append(true)
        }
        bits += Array(repeating: true, count: 10)
        let samplesPerBit = Double(rate) / 1200
        var samples: [Int16] = []
        var phase = 0.0
        let total = Int((Double(bits.count) * samplesPerBit).rounded())
        samples.reserveCapacity(total)
        for index in 0..<total {
            let bit = bits[min(Int(Double(index) / samplesPerBit), bits.count - 1)]
            phase += 2 * Double.pi * (bit ? 1300 : 2100) / Double(rate)
            samples.append(Int16(amplitude * sin(phase)))
        }
        return samples
    }

    static let dtmfRows: [Character: (Double, Double)] = {
        let keys: [[Character]] = [["1", "2", "3", "A"], ["4", "5", "6", "B"], ["7", "8", "9", "C"], ["*", "0", "#", "D"]]
        let low = [697.0, 770, 852, 941], high = [1209.0, 1336, 1477, 1633]
        var table: [Character: (Double, Double)] = [:]
        for (row, line) in keys.enumerated() { for (column, key) in line.enumerated() { table[key] = (low[row], high[column]) } }
        return table
    }()

    /// DTMF keys, each `toneMilliseconds` on and `pauseMilliseconds` off.
    public static func dtmf(_ keys: String, rate: Int, toneMilliseconds: Int = 80, pauseMilliseconds: Int = 80,
                            amplitude: Double = 5000) -> [Int16] {
        var samples: [Int16] = []
        for key in keys {
            guard let (low, high) = dtmfRows[key] else { continue }
            let count = rate * toneMilliseconds / 1000
            for index in 0..<count {
                let time = Double(index) / Double(rate)
                samples.append(Int16(amplitude * (sin(2 * .pi * low * time) + sin(2 * .pi * high * time)) / 2))
            }
            samples += Array(repeating: 0, count: rate * pauseMilliseconds / 1000)
        }
        return samples
    }

    /// DTMF CLIP as ETSI EN 300 659-1 Annex B sends it: A, the number, C.
    public static func dtmfCallerID(number: String, rate: Int) -> [Int16] { dtmf("A" + number + "C", rate: rate) }

    /// A 425 Hz tone (the Polish dial/ringback frequency), e.g. a short beep.
    public static func tone(frequency: Double, milliseconds: Int, rate: Int, amplitude: Double = 4000) -> [Int16] {
        (0..<(rate * milliseconds / 1000)).map { Int16(amplitude * sin(2 * .pi * frequency * Double($0) / Double(rate))) }
    }
}
