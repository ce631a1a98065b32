import Foundation
import Testing
import SkrybaALSA
import SkrybaCapture
import SkrybaPipeline
import SkrybaSystem

/// What keeps time for a PCM, asked of alsa-lib, and the pacing that follows (issue 9, item 5).
@Suite struct PCMClockTests {
    @Test func aFilePCMOverTheNullPluginHasNoClockOfItsOwn() throws {
        _ = ALSAFixture.shared
        #expect(try PCM.clock(name: "skryba_test_pattern8", stream: .capture) == .none(type: "file"))
        // A plug over a file over a multi over null: still nothing at the bottom that keeps time.
        #expect(try PCM.clock(name: "skryba_test_only_8k", stream: .capture) == .none(type: "plug"))
        let opened = try PCM(name: "skryba_test_pattern8", stream: .capture, parameters: PCMParameters(rate: 8000, channels: 8, periodFrames: 160))
        #expect(opened.clock == .none(type: "file"), "an opened PCM says the same")
    }

    @Test func aPCMThatDoesNotExistIsAClearError() {
        _ = ALSAFixture.shared
        #expect {
            _ = try PCM.clock(name: "skryba_no_such_tap", stream: .capture)
        } throws: { error in
            "\(error)".hasPrefix("ALSA PCM 'skryba_no_such_tap': cannot open the capture device")
        }
    }

    @Test func thePacingFollowsTheClockUnlessOverriddenAndSaysSo() {
        let file = PacingChoice(pcmName: "tap_x", clock: .none(type: "file"), requested: nil)
        #expect(file.pacing == .waitForConsumers)
        #expect(file.description == "capture tap_x is an alsa-lib file PCM with no clock of its own: paced by the consumer (no audio is dropped); --pacing device overrides")
        let card = PacingChoice(pcmName: "hw:CARD=Tap", clock: .hardware(type: "hw", card: 1, name: "USB Audio"), requested: nil)
        #expect(card.pacing == .device)
        #expect(card.description == "capture hw:CARD=Tap is sound card 1 (USB Audio), which keeps its own clock: paced by the device "
                + "(a full ring drops audio, which is counted and alarmed); --pacing simulation overrides")
        let forced = PacingChoice(pcmName: "tap_x", clock: .none(type: "file"), requested: .device)
        #expect(forced.pacing == .device)
        #expect(forced.description.hasSuffix("paced by the device (a full ring drops audio, which is counted and alarmed) as --pacing device asks"))
        #expect(PacingChoice(pcmName: "p", clock: .hardware(type: "plug", card: 0, name: "x"), requested: .waitForConsumers).pacing == .waitForConsumers)
    }
}
