import Foundation

/// 16-bit PCM WAV files (RIFF): test speech in, announcements in, decoded audio out.
public struct WAVFile: Equatable, Sendable {
    public var sampleRate: Int
    public var channels: Int
    /// Interleaved samples.
    public var samples: [Int16]

    public init(sampleRate: Int, channels: Int, samples: [Int16]) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    public var frames: Int { samples.count / max(channels, 1) }

    public static func read(path: String) throws(WAVError) -> WAVFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
        return try parse([UInt8](data), path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(WAVError) -> WAVFile {
        func u32(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
        func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw .notWAV(path: path)
        }
        var offset = 12
        var format: (encoding: UInt16, channels: Int, rate: Int, bits: UInt16)?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(u32(offset + 4))
            let body = offset + 8
            let available = min(size, bytes.count - body)
            if id == "fmt " {
                guard available >= 16 else { throw .malformed(path: path, reason: "the fmt chunk is shorter than 16 bytes") }
                var encoding = u16(body)
                if encoding == 0xFFFE, available >= 26 { encoding = u16(body + 24) }  // WAVE_FORMAT_EXTENSIBLE sub-format
                format = (encoding, Int(u16(body + 2)), Int(u32(body + 4)), u16(body + 14))
            } else if id == "data" {
                guard let format else { throw .malformed(path: path, reason: "the data chunk comes before the fmt chunk") }
                guard format.encoding == 1, format.bits == 16 else {
                    throw .unsupportedFormat(path: path, detail: "encoding \(format.encoding), \(format.bits) bits per sample")
                }
                guard format.channels >= 1 else { throw .malformed(path: path, reason: "0 channels") }
                let count = available / 2
                var samples = [Int16](repeating: 0, count: count)
                for index in 0..<count { samples[index] = Int16(bitPattern: u16(body + 2 * index)) }
                let whole = samples.count - samples.count % format.channels
                return WAVFile(sampleRate: format.rate, channels: format.channels, samples: Array(samples[0..<whole]))
            }
            offset = body + size + (size & 1)
        }
        throw .malformed(path: path, reason: "no data chunk")
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        func put32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func put16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        let dataBytes = samples.count * 2
        bytes += Array("RIFF".utf8); put32(UInt32(36 + dataBytes)); bytes += Array("WAVE".utf8)
        bytes += Array("fmt ".utf8); put32(16); put16(1); put16(UInt16(channels)); put32(UInt32(sampleRate))
        put32(UInt32(sampleRate * channels * 2)); put16(UInt16(channels * 2)); put16(16)
        bytes += Array("data".utf8); put32(UInt32(dataBytes))
        for sample in samples { put16(UInt16(bitPattern: sample)) }
        return bytes
    }

    public func write(path: String) throws {
        try Data(encoded()).write(to: URL(fileURLWithPath: path))
    }
}

public enum WAVError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case notWAV(path: String)
    case malformed(path: String, reason: String)
    case unsupportedFormat(path: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path): cannot read the file"
        case .notWAV(let path): "\(path): not a WAV file (no RIFF/WAVE header)"
        case .malformed(let path, let reason): "\(path): malformed WAV: \(reason)"
        case .unsupportedFormat(let path, let detail):
            "\(path): only 16-bit PCM WAV is supported (found \(detail)); convert with: sox IN -b 16 -e signed-integer OUT.wav"
        }
    }
}
