#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import SkrybaCore

/// What the capture device is doing, written by the capture thread (atomics, no lock) and read by
/// the daemon's health check, which raises and clears the `capture-device-gone` alarm from it.
public final class CaptureDeviceHealth: @unchecked Sendable {
    @usableFromInline let gone: UnsafeMutablePointer<Atomic<Bool>>
    @usableFromInline let counters: UnsafeMutablePointer<Atomic<UInt64>>  // [outages, reopen attempts, lost frames]
    @usableFromInline let lastError: UnsafeMutablePointer<Atomic<Int32>>
    /// Tests and bring-up: while set, reads fail and reopening fails as if the USB interface were
    /// unplugged (`-ENODEV`); the real PCM is closed and opened again all the same.
    @usableFromInline let unplugged: UnsafeMutablePointer<Atomic<Bool>>

    public init() {
        gone = .allocate(capacity: 1)
        gone.initialize(to: Atomic(false))
        counters = .allocate(capacity: 3)
        for index in 0..<3 { (counters + index).initialize(to: Atomic(0)) }
        lastError = .allocate(capacity: 1)
        lastError.initialize(to: Atomic(0))
        unplugged = .allocate(capacity: 1)
        unplugged.initialize(to: Atomic(false))
    }

    deinit {
        gone.deallocate()
        counters.deallocate()
        lastError.deallocate()
        unplugged.deallocate()
    }

    public var isGone: Bool { gone.pointee.load(ordering: .acquiring) }
    public var outages: UInt64 { counters.pointee.load(ordering: .relaxed) }
    public var reopenAttempts: UInt64 { (counters + 1).pointee.load(ordering: .relaxed) }
    public var lostFrames: UInt64 { (counters + 2).pointee.load(ordering: .relaxed) }
    /// The alsa-lib error that ended the stream or refused the last reopening (negative errno).
    public var lastErrorCode: Int32 { lastError.pointee.load(ordering: .relaxed) }

    public func simulateUnplug(_ pulled: Bool) { unplugged.pointee.store(pulled, ordering: .relaxed) }
}

/// A capture PCM that outlives its device: when a read fails beyond alsa-lib's recovery (the USB
/// audio interface was unplugged: -ENODEV, -EIO, -EBADFD), it closes the PCM and opens it again by
/// name, waiting 50 ms, then twice as long each time up to 2 s, so the capture thread keeps
/// checking for a stop between attempts. When the device is back, the sample clock moves on by the
/// outage (wall clock × rate) and recording resumes by itself; every call in progress keeps the
/// outage as a gap. Opening a PCM allocates: that happens only during an outage, never in the
/// steady state.
public struct ReopeningPCMSource: CaptureSource, @unchecked Sendable {
    public let channels: Int
    private let name: String
    /// What the device granted at the first open (and must grant again).
    public let parameters: PCMParameters
    private let configurationFile: String?
    private let health: CaptureDeviceHealth
    private var pcm: PCM?
    private var reader: PCMReader?
    private var downSince = timespec()
    private var backoffNanoseconds: UInt64 = 0

    public static let firstBackoffNanoseconds: UInt64 = 50_000_000
    public static let longestBackoffNanoseconds: UInt64 = 2_000_000_000

    /// - Parameter pcm: the PCM as opened at start; reopening asks for the parameters it was granted.
    public init(_ pcm: PCM, configurationFile: String?, health: CaptureDeviceHealth) {
        channels = pcm.parameters.channels
        name = pcm.name
        parameters = pcm.parameters
        self.configurationFile = configurationFile
        self.health = health
        self.pcm = pcm
        reader = pcm.realtimeReader()
    }

    public func streamTimestamp(position: UInt64) -> ClockAnchor? { reader?.streamTimestamp(position: position) }

    public mutating func read(into buffer: UnsafeMutablePointer<Int16>, frames: Int) -> CaptureReadResult {
        if let reader {
            let result = health.unplugged.pointee.load(ordering: .relaxed) ? .failed(code: -ENODEV) : reader.read(into: buffer, frames: frames)
            guard case .failed(let code) = result else { return result }
            beginOutage(code)
            return .unavailable
        }
        var pause = timespec(tv_sec: Int(backoffNanoseconds / 1_000_000_000), tv_nsec: Int(backoffNanoseconds % 1_000_000_000))
        var left = timespec()
        while nanosleep(&pause, &left) == -1 && errno == EINTR { pause = left }
        health.counters.advanced(by: 1).pointee.add(1, ordering: .relaxed)
        backoffNanoseconds = min(backoffNanoseconds * 2, Self.longestBackoffNanoseconds)
        guard !health.unplugged.pointee.load(ordering: .relaxed) else {
            health.lastError.pointee.store(-ENODEV, ordering: .relaxed)
            return .unavailable
        }
        do {
            let reopened = try PCM(name: name, stream: .capture, parameters: parameters, configurationFile: configurationFile)
            guard reopened.parameters == parameters else {
                health.lastError.pointee.store(-EINVAL, ordering: .relaxed)  // another device, another period: not the one we lost
                return .unavailable
            }
            pcm = reopened
            reader = reopened.realtimeReader()
        } catch {
            health.lastError.pointee.store(error.code, ordering: .relaxed)
            return .unavailable
        }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = UInt64(max(0, (now.tv_sec - downSince.tv_sec) * 1_000_000_000 + (now.tv_nsec - downSince.tv_nsec)))
        let lost = nanoseconds / 1_000_000 * UInt64(parameters.rate) / 1000
        health.counters.advanced(by: 2).pointee.add(lost, ordering: .relaxed)
        health.gone.pointee.store(false, ordering: .releasing)
        return .resumed(lostFrames: lost)
    }

    private mutating func beginOutage(_ code: Int32) {
        reader = nil
        pcm = nil  // snd_pcm_close: the device's file descriptors go now, not at the next open
        clock_gettime(CLOCK_MONOTONIC, &downSince)
        backoffNanoseconds = Self.firstBackoffNanoseconds
        health.lastError.pointee.store(code, ordering: .relaxed)
        health.counters.pointee.add(1, ordering: .relaxed)
        health.gone.pointee.store(true, ordering: .releasing)
    }
}
