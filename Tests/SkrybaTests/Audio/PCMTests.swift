import Foundation
import Testing
import SkrybaALSA
import SkrybaCore

/// Opening, refusing and playing through real alsa-lib PCMs.
@Suite struct PCMTests {
    @Test func aPCMThatDoesNotExistIsNamedInTheError() {
        _ = ALSAFixture.shared
        let error = #expect(throws: ALSAError.self) {
            try PCM(name: "skryba_no_such_pcm", stream: .capture, parameters: PCMParameters(rate: 8000, channels: 2, periodFrames: 160))
        }
        #expect(error?.function == "snd_pcm_open")
        #expect(error?.code == -ENOENT)
        #expect(error?.description ==
            "ALSA PCM 'skryba_no_such_pcm': cannot open the capture device (is the PCM name right and the interface plugged in?): "
            + "snd_pcm_open failed: No such file or directory (-2); alsa-lib says: Unknown PCM skryba_no_such_pcm")
    }

    @Test func aRateTheDeviceRefusesSaysWhatItOffers() {
        _ = ALSAFixture.shared
        let error = #expect(throws: ALSAError.self) {
            try PCM(name: "skryba_test_only_8k", stream: .capture, parameters: PCMParameters(rate: 16000, channels: 4, periodFrames: 320))
        }
        #expect(error?.function == "snd_pcm_hw_params_set_rate")
        #expect(error?.code == -EINVAL)
        #expect(error?.description.contains("cannot use a sample rate of 16000 Hz (the device runs only at 8000 Hz)") == true, "\(error!)")
        // The same device at its own rate opens.
        #expect(throws: Never.self) {
            try PCM(name: "skryba_test_only_8k", stream: .capture, parameters: PCMParameters(rate: 8000, channels: 4, periodFrames: 160))
        }
    }

    @Test func aChannelCountTheDeviceRefusesSaysWhatItOffers() {
        _ = ALSAFixture.shared
        let error = #expect(throws: ALSAError.self) {
            try PCM(name: "skryba_test_four_channels", stream: .capture, parameters: PCMParameters(rate: 8000, channels: 8, periodFrames: 160))
        }
        #expect(error?.function == "snd_pcm_hw_params_set_channels")
        #expect(error?.description.contains("cannot use 8 channels (the device offers only 4 channels)") == true)
    }

    @Test func fewerChannelsThanConfiguredLinesIsRefusedBeforeOpening() {
        #expect(throws: LineLayoutError.fewerChannelsThanLines(channels: 2, lines: 3)) {
            try LineLayout(rate: 8000, channels: 2, captureChannels: [0, 1, 2])
        }
        #expect(LineLayoutError.fewerChannelsThanLines(channels: 2, lines: 3).description
            == "3 lines are configured but the capture device has only 2 channels")
        #expect(throws: LineLayoutError.channelOutOfRange(line: 1, channel: 4, channels: 4)) {
            try LineLayout(rate: 8000, channels: 4, captureChannels: [0, 4])
        }
        #expect(throws: LineLayoutError.channelSharedByLines(channel: 1, line: 1)) {
            try LineLayout(rate: 8000, channels: 4, captureChannels: [1, 1])
        }
        #expect(throws: LineLayoutError.unsupportedRate(44100)) { try LineLayout(rate: 44100, lines: 1) }
    }

    @Test func playbackWritesExactlyTheFramesGiven() throws {
        let fixture = ALSAFixture.shared
        let frames = 8037  // not a multiple of the period or the buffer
        let samples = ALSAFixture.pattern(frames: frames, channels: 2)
        do {
            let pcm = try PCM(name: "skryba_test_playback", stream: .playback,
                              parameters: PCMParameters(rate: 8000, channels: 2, periodFrames: 160))
            #expect(pcm.parameters.periodFrames == 160)
            try samples.withUnsafeBufferPointer { try pcm.write($0) }
            try pcm.drain()
            #expect(pcm.underruns == 0)
        }
        let written = try Data(contentsOf: URL(fileURLWithPath: fixture.path("playback.raw")))
        #expect(written.count == frames * 2 * 2)
        let decoded = written.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map(Int16.init(littleEndian:))
        #expect(decoded == samples)
    }
}
