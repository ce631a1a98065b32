import Foundation
import Testing
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSystem

/// The whole spine — alsa-lib capture, capture thread, rings, workers, Opus, Ogg — on speech.
@Suite struct ContinuousRecorderTests {
    @Test func eachLineDecodesToItsOwnSpeech() throws {
        let fixture = ALSAFixture.shared
        let output = try makeTemporaryDirectory(prefix: "skryba-recorder")
        let frames = UInt64(fixture.speech.map(\.count).max()!)
        var configuration = RecorderConfiguration(
            pcmName: "skryba_test_speech2", layout: try LineLayout(rate: 8000, lines: 2), periodFrames: 160,
            opus: OpusSettings(), frameLimit: frames, pacing: .waitForConsumers)
        configuration.realtimePriority = nil
        configuration.recorderID = "test-recorder"
        let report = try ContinuousRecorder(configuration: configuration, store: PlainFileStore(directory: output)).run()
        #expect(report.framesCaptured == frames)
        #expect(report.end == "reached-frame-limit")
        #expect(report.lineFailures.isEmpty)
        #expect(report.gapFrames == [0, 0])
        #expect(report.files == ["\(output)/line-01.opus", "\(output)/line-02.opus"])

        for (line, speech) in fixture.speech.enumerated() {
            let decoded = try Tool.opusdec(report.files[line])
            #expect(decoded.count == Int(frames))
            let own = Signal.bestCorrelation(speech, decoded).correlation
            let other = Signal.bestCorrelation(fixture.speech[1 - line], decoded).correlation
            #expect(own > 0.85, "line \(line + 1) correlation with its own speech: \(own)")
            #expect(other < 0.2, "line \(line + 1) correlation with the other line's speech: \(other)")
            let info = try Tool.run("opusinfo", [report.files[line]])
            #expect(info.output.contains("SKRYBA_LINE=\(line + 1)"))
            #expect(info.output.contains("SKRYBA_RECORDER=test-recorder"))
        }
    }

    /// The storage thread writes the files: a line whose file fails is named in the report's failures
    /// (the run goes on for the others, and `skrybad` exits non-zero on any).
    @Test func aRecordingFileThatCannotBeWrittenIsNamedInTheReport() throws {
        _ = ALSAFixture.shared
        let output = try makeTemporaryDirectory(prefix: "skryba-recorder-fail")
        // /dev/full accepts the open and fails every write with ENOSPC: a full disk for one line.
        try FileManager.default.createSymbolicLink(atPath: "\(output)/line-02.opus", withDestinationPath: "/dev/full")
        var configuration = RecorderConfiguration(
            pcmName: "skryba_test_pattern8", layout: try LineLayout(rate: 8000, lines: 3, channels: 8), periodFrames: 160,
            opus: OpusSettings(), frameLimit: 8000, pacing: .waitForConsumers)
        configuration.realtimePriority = nil
        let report = try ContinuousRecorder(configuration: configuration, store: PlainFileStore(directory: output)).run()
        #expect(report.lineFailures == ["line 2: cannot write the recording: \(output)/line-02.opus: write failed: No space left on device (errno 28)"])
        #expect(report.files == (1...3).map { "\(output)/line-0\($0).opus" })
        #expect(try Tool.opusdec(report.files[0]).count == 8000, "the other lines are whole")
    }
}

@Suite struct DevicePacingTests {
    /// A file PCM read with device pacing runs far faster than the encoders: periods are dropped,
    /// and every dropped frame comes back as silence, so each file still spans the whole capture.
    @Test func droppedPeriodsBecomeCountedSilenceAndTheTimelineHolds() throws {
        _ = ALSAFixture.shared
        let output = try makeTemporaryDirectory(prefix: "skryba-device-pacing")
        var configuration = RecorderConfiguration(
            pcmName: "skryba_test_pattern8", layout: try LineLayout(rate: 8000, lines: 4, channels: 8), periodFrames: 160,
            opus: OpusSettings(), frameLimit: 32_000, pacing: .device)
        configuration.slotsPerRing = 2
        configuration.realtimePriority = nil
        let report = try ContinuousRecorder(configuration: configuration, store: PlainFileStore(directory: output)).run()
        #expect(report.framesCaptured == 32_000)
        #expect(report.gapFrames == report.ringOverflows.map(\.frames))
        for file in report.files { #expect(try Tool.opusdec(file).count == 32_000) }
    }
}
