import Foundation
import SkrybaALSA
import SkrybaCapture

/// Plays announcements (and outgoing notices) into the lines through one playback PCM, on the
/// capture's sample clock: playback frame k is written as capture frame k, so an announcement
/// scheduled at the off-hook frame starts at exactly that frame of the output stream.
///
/// The player never writes a frame before every line worker has processed it (a worker may still
/// schedule or cut an announcement there); on the board that adds the capture-to-playback latency
/// (one or two periods) before the caller hears it, which the catalog's frame positions state.
public final class AnnouncementPlayer: @unchecked Sendable {
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

    /// - Parameter lines: the line ids whose workers report progress.
    public init(pcm: PCM, lines: [Int]) {
        self.pcm = pcm
        channels = pcm.parameters.channels
        progress = Dictionary(lines.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
    }

    deinit { wakeup.destroy() }

    public func start() {
        thread = JoinableThread(name: "skryba-playback") { [self] in run() }
    }

    /// Plays `clip` on `channel` from `frame` (replacing whatever that line was playing).
    public func play(_ clip: Clip, line: Int, channel: Int, from frame: UInt64) {
        // Validation keeps every playback channel inside the PCM; a bad one must not trap the playback thread.
        guard (0..<channels).contains(channel) else { return }
        lock.withLock {
            // Workers schedule before reporting progress past `frame`, so this never clips in practice.
            let start = max(frame, written)
            playing[line] = Playing(clip: clip, channel: channel, start: start, stop: start + UInt64(clip.samples.count))
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
                (progress.values.min() ?? 0, finishedAt.map { written >= $0 } ?? false, Array(playing.values))
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
