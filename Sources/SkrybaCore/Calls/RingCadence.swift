/// Turns raw ring-detect edges into ring bursts. A burst is ringing voltage held for at least
/// `minimumBurstFrames` (ETSI/Polish cadence: 1 s on, 4 s off; US: 2 s on, 4 s off); shorter pulses
/// (contact bounce, induced spikes, a pulse-dialling neighbour) are not ringing. Ringing has ended
/// when no burst started within `timeoutFrames` after the last one ended.
public struct RingCadence: Equatable, Sendable {
    public let minimumBurstFrames: UInt64
    public let timeoutFrames: UInt64
    private var assertedSince: UInt64?
    private var burstReported = false
    private var lastBurstEnd: UInt64?
    public private(set) var isRinging = false

    /// Defaults at 8 kHz: 200 ms minimum burst, 8 s timeout (longer than any cadence's silence).
    public init(rate: Int = 8000, minimumBurstMilliseconds: Int = 200, timeoutMilliseconds: Int = 8000) {
        minimumBurstFrames = UInt64(rate * minimumBurstMilliseconds / 1000)
        timeoutFrames = UInt64(rate * timeoutMilliseconds / 1000)
    }

    /// Feed a ring edge; returns a `.ringBurst` once the level has been held long enough (checked
    /// here and by `advance`), dated at the burst's start.
    public mutating func edge(level: Bool, frame: UInt64) -> [CallEvent] {
        var events = advance(to: frame)
        if level {
            if assertedSince == nil {
                assertedSince = frame
                burstReported = false
            }
        } else if let since = assertedSince {
            if !burstReported, frame.frames(since: since) >= minimumBurstFrames { events.append(report(start: since)) }
            if burstReported { lastBurstEnd = frame }
            assertedSince = nil
        }
        return events
    }

    /// The clock reached `frame`: report a burst held long enough, or the end of ringing.
    public mutating func advance(to frame: UInt64) -> [CallEvent] {
        if let since = assertedSince, !burstReported, frame.frames(since: since) >= minimumBurstFrames { return [report(start: since)] }
        if isRinging, assertedSince == nil, let end = lastBurstEnd, frame >= end + timeoutFrames {
            isRinging = false
            lastBurstEnd = nil
            return [.ringingEnded(frame: end + timeoutFrames)]
        }
        return []
    }

    /// Off-hook answers the ringing: the cadence starts afresh for the next call.
    public mutating func reset() {
        assertedSince = nil
        burstReported = false
        lastBurstEnd = nil
        isRinging = false
    }

    private mutating func report(start: UInt64) -> CallEvent {
        burstReported = true
        isRinging = true
        return .ringBurst(frame: start)
    }
}
