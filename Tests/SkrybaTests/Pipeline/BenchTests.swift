import Foundation
import Testing
import SkrybaOpus
import SkrybaPipeline
import SkrybaSystem
import SkrybaSeal

/// The bench runs the real pipeline; here it is checked for what it reports, never for speed.
@Suite struct BenchTests {
    @Test func benchReportsExactFramesAndBothSides() throws {
        let fixture = ALSAFixture.shared
        let input = fixture.path("bench-speech.wav")
        try WAVFile(sampleRate: 8000, channels: 1, samples: fixture.speech[0]).write(path: input)
        let output = try makeTemporaryDirectory(prefix: "skryba-bench-test")
        let identity = AgeIdentity()
        var options = Bench.Options(input: input, lines: 3, seconds: 2.5)
        options.outputDirectory = output
        options.recipients = [identity.recipient]
        options.measureSealOverhead = true
        let report = try Bench.run(options)
        #expect(report.framesPerLine == 20_000)
        #expect(report.audioSeconds == 7.5)
        #expect(report.ringOverflowPeriods == 0 && report.xruns == 0)
        #expect(report.lineFailures.isEmpty)
        #expect(report.baseline != nil && report.cpuRatioToLibopus != nil)
        #expect(report.pipeline.bytes > 0 && report.baseline!.bytes > 0)
        #expect(report.sealed && report.fsync)
        #expect(report.unsealedPipeline != nil && report.sealCPURatio != nil)
        // Sealing adds its framing and nothing else: the plaintext is the same Ogg Opus stream.
        var framing = 0
        for line in 1...3 {
            let sealed = [UInt8](FileManager.default.contents(atPath: "\(output)/bench-line-0\(line).skryba")!)
            let layout = try SealedRecordingReader.scan(sealed)
            framing += sealed.count - layout.records.reduce(0) { $0 + $1.ciphertextLength - SealedFormat.tagLength }
        }
        #expect(report.pipeline.bytes - framing == report.unsealedPipeline!.bytes)
        for line in 1...3 {
            // Sealed to the recipient given; opens to exactly the unsealed run's stream length.
            let sealed = [UInt8](FileManager.default.contents(atPath: "\(output)/bench-line-0\(line).skryba")!)
            let opened = try SealedRecordingReader.open(sealed, identities: [identity])
            #expect(opened.problem == nil)
            try Data(opened.plaintext).write(to: URL(fileURLWithPath: "\(output)/opened-\(line).opus"))
            #expect(try Tool.opusdec("\(output)/opened-\(line).opus").count == 20_000)
            #expect(try Tool.opusdec("\(output)/bench-line-0\(line).opus").count == 20_000)
        }
    }

    @Test func benchRefusesAWAVAtTheWrongRate() throws {
        let fixture = ALSAFixture.shared
        let input = fixture.path("bench-16k.wav")
        try WAVFile(sampleRate: 16000, channels: 1, samples: [0, 1, 2]).write(path: input)
        var options = Bench.Options(input: input, lines: 1, seconds: 1)
        options.rate = 8000
        let error = #expect(throws: BenchError.self) { try Bench.run(options) }
        #expect(error?.description == "\(input) is 16000 Hz but --rate is 8000: resample it first (sox IN -r 8000 OUT.wav); the pipeline never resamples")
    }
}
