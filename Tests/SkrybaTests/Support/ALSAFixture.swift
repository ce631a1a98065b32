import Foundation
import SkrybaALSA
import SkrybaPipeline
import SkrybaSystem

/// Prepares the test ALSA world once per test process: generates the raw capture files the
/// committed `Fixtures/asound.conf` names, then points alsa-lib at that file. Every test that opens
/// a PCM first touches `ALSAFixture.shared`.
final class ALSAFixture: Sendable {
    static let shared: ALSAFixture = try! ALSAFixture()

    let directory: String
    static let rate = 8000
    static let patternFrames = 40_000
    static let toneFrames = 16_000
    static let toneChannel = 3
    /// The two sentences in `speech2.raw` (8 kHz mono each), as generated.
    let speech: [[Int16]]

    private init() throws {
        directory = try makeTemporaryDirectory(prefix: "skryba-alsa-fixtures")
        try Self.writeRaw(interleaved: Self.pattern(frames: Self.patternFrames, channels: 8), to: "\(directory)/pattern8.raw")
        try Self.writeRaw(interleaved: Self.tone(frames: Self.toneFrames, channels: 6, on: Self.toneChannel), to: "\(directory)/tone6.raw")
        let first = try Speech.make("Dzień dobry, tu urząd miasta. Proszę podać numer sprawy.", voice: "pl", directory: directory)
        let second = try Speech.make("The office is open from eight to four on weekdays.", voice: "en", directory: directory)
        speech = [first, second]
        let frames = max(first.count, second.count)
        var interleaved = [Int16](repeating: 0, count: frames * 2)
        for (index, sample) in first.enumerated() { interleaved[index * 2] = sample }
        for (index, sample) in second.enumerated() { interleaved[index * 2 + 1] = sample }
        try Self.writeRaw(interleaved: interleaved, to: "\(directory)/speech2.raw")
        setenv("SKRYBA_ALSA_FIXTURES", directory, 1)
        // The one process-wide setting of the tests: alsa-lib reads only the fixture configuration.
        setenv("ALSA_CONFIG_PATH", Self.configurationPath, 1)
    }

    static var configurationPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/asound.conf").path
    }

    /// A value no other (frame, channel) of the first 2^13 frames shares, so misplaced or
    /// repeated samples are caught: 13 bits of frame, 3 bits of channel.
    static func patternSample(frame: Int, channel: Int) -> Int16 {
        Int16(bitPattern: UInt16(truncatingIfNeeded: (frame & 0x1FFF) << 3 | channel))
    }

    static func pattern(frames: Int, channels: Int) -> [Int16] {
        var samples = [Int16](repeating: 0, count: frames * channels)
        for frame in 0..<frames {
            for channel in 0..<channels { samples[frame * channels + channel] = patternSample(frame: frame, channel: channel) }
        }
        return samples
    }

    static func tone(frames: Int, channels: Int, on channel: Int) -> [Int16] {
        var samples = [Int16](repeating: 0, count: frames * channels)
        for frame in 0..<frames {
            samples[frame * channels + channel] = Int16(8000 * sin(2 * Double.pi * 1000 * Double(frame) / Double(rate)))
        }
        return samples
    }

    static func writeRaw(interleaved: [Int16], to path: String) throws {
        try interleaved.map(\.littleEndian).withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }
}
