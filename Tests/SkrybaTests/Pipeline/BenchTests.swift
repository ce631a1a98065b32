import Foundation
import Testing
import SkrybaOpus
import SkrybaPipeline

/// The bench runs the real pipeline; here it is checked for what it reports, never for speed.
@Suite struct BenchTests {
    @Test func benchReportsExactFramesAndBothSides() throws {
        let fixture = ALSAFixture.shared
        let input = fixture.path("bench-speech.wav")
        try WAVFile(sampleRate: 8000, channels: 1, samples: fixture.speech[0]).write(path: input)
        let output = try makeTemporaryDirectory(prefix: "skryba-bench-test")
        var options = Bench.Options(input: input, lines: 3, seconds: 2.5)
        options.outputDirectory = output
        let report = try Bench.run(options)
        #expect(report.framesPerLine == 20_000)
        #expect(report.audioSeconds == 7.5)
        #expect(report.ringOverflowPeriods == 0 && report.xruns == 0)
        #expect(report.lineFailures.isEmpty)
        #expect(report.baseline != nil && report.cpuRatioToLibopus != nil)
        #expect(report.pipeline.bytes > 0 && report.baseline!.bytes > 0)
        for line in 1...3 {
            let decoded = try Tool.opusdec("\(output)/bench-line-0\(line).opus")
            #expect(decoded.count == 20_000)
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
