import Foundation
import SkrybaALSA
import SkrybaCapture

/// Plays announcements (and outgoing notices) into the lines through one playback PCM, on the
/// capture's sample clock: playback frame k is written as capture frame k.
///
/// Pacing follows the playback PCM, as the capture's does:
/// - a device with a clock (`PCM.clock.hasOwnClock`): the player thread writes a period whenever
///   the device has consumed one (`snd_pcm_writei` blocks until there is room), whatever the line
///   workers are doing, so a slow worker can never underrun the playback. A clip scheduled at a
///   frame already written starts at the first frame still to write (the playback buffer's latency);
/// - a PCM with no clock (an alsa-lib file PCM, the simulator): it would take frames as fast as
///   they come, so the player writes no frame before every line worker has processed it, and an
///   announcement scheduled at the off-hook frame starts at exactly that frame of the output stream.
public final class AnnouncementPlayer: @unchecked Sendable {
    public enum Pacing: Sendable {
        /// The playback device consumes at its own rate.
        case device
        /// Never ahead of the slowest line worker (a PCM with no clock of its own).
        case slowestWorker
    }
    public struct Clip: Sendable {
        public var id: String
        public var sha256: String
        public var samples: [Int16]
        public init(id: String, sha256: String, samples: [Int16]) {
            self.id = id
            self.sha256 = sha256
            self.samples = samples
        }
    }

    private struct Playing {
        var clip: Clip
        var channel: Int
        var start: UInt64
        var stop: UInt64
    }

    private let pcm: PCM
    private let channels: Int
    private let lock = NSLock()
    private let wakeup = WakeSignal.make()
    private var progress: [Int: UInt64]
    private var playing: [Int: Playing] = [:]  // by line
    private var written: UInt64 = 0
    private var finishedAt: UInt64?
    private var thread: JoinableThread?
    public private(set) var failure: String?
    public let pacing: Pacing

    /// - Parameters:
    ///   - lines: the line ids whose workers report progress.
    ///   - pacing: nil chooses from the PCM's clock.
    public init(pcm: PCM, lines: [Int], pacing: Pacing? = nil) {
        self.pcm = pcm
        self.pacing = pacing ?? (pcm.clock.hasOwnClock ? .device : .slowestWorker)
        channels = pcm.parameters.channels
        progress = Dictionary(lines.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
    }

    deinit { wakeup.destroy() }

    /// - Throws: `ThreadStartError` when the playback thread cannot be created.
    public func start() throws(ThreadStartError) {
        thread = try JoinableThread(name: "playback") { [self] in run() }
    }

    /// Plays `clip` on `channel` from `frame` (replacing whatever that line was playing).
    public func play(_ clip: Clip, line: Int, channel: Int, from frame: UInt64) {
        _ = schedule(clip, line: line, channel: channel, from: frame, unlessBusy: false)
    }

    /// Plays `clip` like `play`, but only when the line plays nothing now or later (a technician's
    /// test must never cut or replace a call's announcement; a call that starts during the test
    /// replaces the test instead). Returns the frame it starts at, or nil when the line was busy.
    public func playUnlessBusy(_ clip: Clip, line: Int, channel: Int, from frame: UInt64) -> UInt64? {
        schedule(clip, line: line, channel: channel, from: frame, unlessBusy: true)
    }

    private func schedule(_ clip: Clip, line: Int, channel: Int, from frame: UInt64, unlessBusy: Bool) -> UInt64? {
        // Validation keeps every playback channel inside the PCM; a bad one must not trap the playback thread.
        guard (0..<channels).contains(channel) else { return nil }
        return lock.withLock {
            if unlessBusy, let current = playing[line], current.stop > written { return nil }
            // Paced by the slowest worker, nothing past `frame` is written yet; paced by a device, a frame
            // already written is out of reach and the clip starts at the first one still to write.
            let start = max(frame, written)
            playing[line] = Playing(clip: clip, channel: channel, start: start, stop: start + UInt64(clip.samples.count))
            return start
        }
    }

    /// Cuts the line's clip at `frame`.
    public func stop(line: Int, at frame: UInt64) {
        lock.withLock {
            if var current = playing[line] {
                current.stop = min(current.stop, max(frame, current.start))
                playing[line] = current
            }
        }
    }

    /// The line's worker has processed every frame before `frame`.
    public func advance(line: Int, to frame: UInt64) {
        lock.withLock { progress[line] = max(progress[line] ?? 0, frame) }
        wakeup.signal()
    }

    /// Writes up to `frame` (the end of the capture), drains and stops.
    public func finish(at frame: UInt64) {
        lock.withLock {
            for line in progress.keys { progress[line] = max(progress[line]!, frame) }
            finishedAt = frame
        }
        wakeup.signal()
        thread?.join()
        thread = nil
    }

    private func run() {
        let chunkFrames = pcm.parameters.periodFrames
        var buffer = [Int16](repeating: 0, count: chunkFrames * channels)
        while true {
            let (target, done, active): (UInt64, Bool, [Playing]) = lock.withLock {
                let limit = switch pacing {
                case .device: finishedAt ?? .max  // the blocking write is the pace
                case .slowestWorker: progress.values.min() ?? 0
                }
                return (limit, finishedAt.map { written >= $0 } ?? false, Array(playing.values))
            }
            if done { break }
            if target <= written {
                wakeup.wait(timeoutNanoseconds: 20_000_000)
                continue
            }
            let frames = Int(min(UInt64(chunkFrames), target - written))
            for index in 0..<(frames * channels) { buffer[index] = 0 }
            for clip in active where clip.start < written + UInt64(frames) && clip.stop > written {
                let from = max(clip.start, written), to = min(clip.stop, written + UInt64(frames))
                for frame in from..<to {
                    buffer[Int(frame - written) * channels + clip.channel] = clip.clip.samples[Int(frame - clip.start)]
                }
            }
            do {
                try buffer.withUnsafeBufferPointer { try pcm.write(UnsafeBufferPointer(rebasing: $0[0..<frames * channels])) }
            } catch {
                lock.withLock { failure = "\(error)" }
                break
            }
            lock.withLock {
                written += UInt64(frames)
                playing = playing.filter { $0.value.stop > written }
            }
        }
        try? pcm.drain()
    }

    public var framesWritten: UInt64 { lock.withLock { written } }
}
