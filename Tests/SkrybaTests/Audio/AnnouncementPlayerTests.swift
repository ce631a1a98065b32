import Foundation
import Synchronization
import Testing
import SkrybaALSA
import SkrybaPipeline
import SkrybaSystem

/// The announcement player's pacing: the playback device's clock when it has one, the slowest
/// line worker when it has none (issue 9, item 7).
@Suite struct AnnouncementPlayerTests {
    /// A playback file PCM of its own (the fixture's shared one is PCMTests'), 2 channels.
    func playbackPCM(_ directory: String) throws -> (PCM, String) {
        let configuration = "\(directory)/asound.conf", outfile = "\(directory)/out.raw"
        try FilePCMDefinition.playback(name: "skryba_player_out", outfile: outfile).write(toFile: configuration, atomically: true, encoding: .utf8)
        let pcm = try PCM(name: "skryba_player_out", stream: .playback, parameters: PCMParameters(rate: 8000, channels: 2, periodFrames: 160),
                          configurationFile: configuration)
        return (pcm, outfile)
    }

    func channel(_ path: String, _ channel: Int) -> [Int16] {
        let raw = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        return stride(from: channel * 2, to: raw.count - 1, by: 4).map { Int16(bitPattern: UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8) }
    }

    static let clip = AnnouncementPlayer.Clip(id: "test", sha256: "", samples: (1...800).map { Int16($0) })

    /// Paced by the device, playback goes on while a line worker reports no progress at all (today
    /// a stalled worker stops the playback and the device underruns); a clip scheduled ahead of the
    /// written frames still starts at its exact frame.
    @Test func aDevicePacedPlayerIsNotHeldBackByAStalledWorker() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-player-device")
        let (pcm, outfile) = try playbackPCM(directory)
        let player = AnnouncementPlayer(pcm: pcm, lines: [1, 2], pacing: .device)
        player.play(Self.clip, line: 2, channel: 1, from: 480)
        try player.start()
        // Neither worker ever calls advance(). Polls the player's own counter; no timing is asserted.
        let deadline = ContinuousClock.now + .seconds(30)
        while player.framesWritten < 8000 && ContinuousClock.now < deadline {}
        player.finish(at: 8000)
        #expect(player.framesWritten >= 8000, "the playback device's pace, not the workers', drives the player")
        #expect(player.failure == nil)
        let line2 = channel(outfile, 1)
        #expect(line2[0..<480].allSatisfy { $0 == 0 })
        #expect(Array(line2[480..<1280]) == Self.clip.samples, "the clip starts at exactly frame 480")
        #expect(channel(outfile, 0).allSatisfy { $0 == 0 }, "line 1's channel stays silent")
    }

    /// A PCM with no clock of its own would take frames as fast as they come: the player writes
    /// only what every worker has processed.
    @Test func aPCMWithNoClockIsPacedByTheSlowestWorker() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-player-file")
        let (pcm, outfile) = try playbackPCM(directory)
        #expect(pcm.clock.hasOwnClock == false)
        let player = AnnouncementPlayer(pcm: pcm, lines: [1, 2])
        #expect(player.pacing == .slowestWorker)
        try player.start()
        player.advance(line: 1, to: 1600)
        player.play(Self.clip, line: 1, channel: 0, from: 320)  // line 2 has not passed 320: still in time
        player.advance(line: 2, to: 1600)
        player.finish(at: 1600)
        #expect(player.framesWritten == 1600)
        let line1 = channel(outfile, 0)
        #expect(line1.count == 1600)
        #expect(line1[0..<320].allSatisfy { $0 == 0 } && Array(line1[320..<1120]) == Self.clip.samples)
    }
}
