import Foundation
import SkrybaOpus
import SkrybaSystem

/// Encodes a mono 16-bit WAV at its own rate (8 or 16 kHz) with the same line encoder the
/// appliance uses: the speech-quality measurement (docs/speech-quality.md) runs through this.
public enum EncodeFile {
    public static func run(input: String, output: String, settings: OpusSettings) throws -> (bytes: Int, seconds: Double) {
        let wav = try WAVFile.read(path: input)
        guard wav.channels == 1 else { throw BenchError("\(input): expected mono, found \(wav.channels) channels") }
        guard [8000, 16000].contains(wav.sampleRate) else {
            throw BenchError("\(input) is \(wav.sampleRate) Hz; lines run at 8000 or 16000 Hz (sox IN -r 8000 OUT.wav)")
        }
        let problems = settings.problems
        guard problems.isEmpty else { throw BenchError(problems.joined(separator: "; ")) }
        let sink = try FileSink(path: output)
        let encoder = try LineEncoder(sampleRate: wav.sampleRate, settings: settings, sink: sink, serialNumber: 1,
                                      metadata: .init([("SKRYBA_SOURCE", (input as NSString).lastPathComponent)]))
        try wav.samples.withUnsafeBufferPointer { try encoder.consume($0) }
        try encoder.finish()
        try encoder.sink.close()
        return (encoder.sink.bytesWritten, Double(wav.samples.count) / Double(wav.sampleRate))
    }
}
