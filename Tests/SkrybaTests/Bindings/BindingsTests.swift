import Foundation
import Testing
import SkrybaGPIO
import SkrybaOpus
import SkrybaPipeline
import SkrybaSystem

/// The thin wrappers own their handles and report failures with the C function and its code.
@Suite struct BindingsTests {
    @Test func gpioNamesTheChipItCannotOpen() {
        let error = #expect(throws: GPIOError.self) { try GPIOChip(name: "gpiochip-skryba-missing") }
        #expect(error?.function == "gpiod_chip_open_lookup")
        #expect(error?.errno == ENOENT)
        #expect(error?.description == "GPIO chip 'gpiochip-skryba-missing': gpiod_chip_open_lookup failed: No such file or directory (errno 2)")
        #expect(libgpiodVersion.hasPrefix("1.6"))
    }

    @Test func opusRejectsWhatLibopusRejects() {
        let error = #expect(throws: OpusError.self) { try OpusEncoder(sampleRate: 11025, settings: OpusSettings()) }
        #expect(error?.function == "opus_encoder_create")
        #expect(error?.description == "libopus opus_encoder_create failed: invalid argument (-1)")
        #expect(OpusSettings(bitrate: 500, complexity: 11).problems == [
            "bitrate 500 bit/s is outside 6000...64000 (speech needs at least 6000)", "complexity 11 is outside 0...10",
        ])
    }

    @Test func opusEncodesAndDecodesAFrame() throws {
        let encoder = try OpusEncoder(sampleRate: 16000, settings: OpusSettings(bitrate: 24000, complexity: 10))
        #expect(encoder.frameSamples == 320)
        let tone = (0..<320).map { Int16(6000 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: OpusEncoder.maximumPacketBytes, alignment: 16)
        defer { packet.deallocate() }
        let length = try tone.withUnsafeBufferPointer { try encoder.encode(frame: $0.baseAddress!, into: packet) }
        #expect(length > 0 && length <= 1275)
        let decoder = try OpusDecoder(sampleRate: 16000)
        var output: [Int16] = []
        try decoder.decode(packet: Array(packet[0..<length]), into: &output)
        #expect(output.count == 320)
    }

    @Test func wavParsingExplainsWhatIsWrong() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-wav")
        let wav = WAVFile(sampleRate: 8000, channels: 1, samples: [1, -2, 3])
        try wav.write(path: "\(directory)/ok.wav")
        #expect(try WAVFile.read(path: "\(directory)/ok.wav") == wav)
        var float = wav.encoded()
        float[20] = 3  // WAVE_FORMAT_IEEE_FLOAT
        #expect(throws: WAVError.unsupportedFormat(path: "x.wav", detail: "encoding 3, 16 bits per sample")) {
            try WAVFile.parse(float, path: "x.wav")
        }
        #expect(throws: WAVError.notWAV(path: "y.wav")) { try WAVFile.parse(Array("hello world!".utf8), path: "y.wav") }
        #expect(throws: WAVError.malformed(path: "z.wav", reason: "no data chunk")) { try WAVFile.parse(Array(wav.encoded()[0..<36]), path: "z.wav") }
    }
}
