import SkrybaALSA

/// How the capture is paced and why: by the device when the PCM keeps its own clock, by the
/// consumers when it has none (an alsa-lib file PCM delivers as fast as it is read, so device
/// pacing would overflow every ring and drop most of the audio). `--pacing` overrides.
public struct PacingChoice: Equatable, Sendable, CustomStringConvertible {
    public let pcmName: String
    public let clock: PCMClock
    public let pacing: CapturePacing
    /// Set by an explicit `--pacing`; nil when the clock decided.
    public let requested: CapturePacing?

    public init(pcmName: String, clock: PCMClock, requested: CapturePacing?) {
        self.pcmName = pcmName
        self.clock = clock
        self.requested = requested
        pacing = requested ?? (clock.hasOwnClock ? .device : .waitForConsumers)
    }

    /// The sentence `skrybad` prints at start.
    public var description: String {
        let paced = switch pacing {
        case .device: "paced by the device (a full ring drops audio, which is counted and alarmed)"
        case .waitForConsumers: "paced by the consumer (no audio is dropped)"
        }
        let override = switch pacing {
        case .device: "--pacing simulation"
        case .waitForConsumers: "--pacing device"
        }
        let reason = requested == nil ? "; \(override) overrides" : " as --pacing \(pacing == .device ? "device" : "simulation") asks"
        return "capture \(pcmName) is \(clock.phrase): \(paced)\(reason)"
    }
}
