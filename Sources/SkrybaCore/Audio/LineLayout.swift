/// Which capture channel carries which line: the mapping between the USB interface's interleaved
/// channels and the trunk lines the appliance records.
public struct LineLayout: Equatable, Sendable {
    /// Sample rate of every channel (8000 or 16000: Opus runs at the line's native rate).
    public let rate: Int
    /// Interleaved channels the capture device delivers.
    public let channels: Int
    /// `captureChannels[i]` is the zero-based capture channel of line `i`.
    public let captureChannels: [Int]

    public static let supportedRates = [8000, 16000]
    /// More channels than any USB telephone tap has (and a bound on what a worker allocates per period).
    public static let maximumChannels = 64

    public init(rate: Int, channels: Int, captureChannels: [Int]) throws(LineLayoutError) {
        guard Self.supportedRates.contains(rate) else { throw .unsupportedRate(rate) }
        guard channels >= 1 else { throw .noChannels }
        guard channels <= Self.maximumChannels else { throw .tooManyChannels(channels) }
        guard !captureChannels.isEmpty else { throw .noLines }
        guard captureChannels.count <= channels else {
            throw .fewerChannelsThanLines(channels: channels, lines: captureChannels.count)
        }
        for (line, channel) in captureChannels.enumerated() where !(0..<channels).contains(channel) {
            throw .channelOutOfRange(line: line, channel: channel, channels: channels)
        }
        var seen = Set<Int>()
        for (line, channel) in captureChannels.enumerated() where !seen.insert(channel).inserted {
            throw .channelSharedByLines(channel: channel, line: line)
        }
        self.rate = rate
        self.channels = channels
        self.captureChannels = captureChannels
    }

    /// One line per channel, line `i` on channel `i`.
    public init(rate: Int, lines: Int, channels: Int? = nil) throws(LineLayoutError) {
        guard lines >= 1 else { throw .noLines }
        guard lines <= Self.maximumChannels else { throw .tooManyChannels(lines) }
        try self.init(rate: rate, channels: channels ?? lines, captureChannels: Array(0..<lines))
    }

    public var lineCount: Int { captureChannels.count }
    /// Samples in one 20 ms Opus frame at this rate.
    public var samplesPerOpusFrame: Int { rate / 50 }
}

public enum LineLayoutError: Error, Equatable, CustomStringConvertible {
    case unsupportedRate(Int)
    case noChannels
    case tooManyChannels(Int)
    case noLines
    case fewerChannelsThanLines(channels: Int, lines: Int)
    case channelOutOfRange(line: Int, channel: Int, channels: Int)
    case channelSharedByLines(channel: Int, line: Int)

    public var description: String {
        switch self {
        case .unsupportedRate(let rate):
            "sample rate \(rate) Hz is not supported: lines run at 8000 or 16000 Hz (Opus encodes at the line's native rate)"
        case .noChannels: "the capture device must have at least one channel"
        case .tooManyChannels(let channels):
            "\(channels) channels or lines are more than the appliance handles (at most \(LineLayout.maximumChannels))"
        case .noLines: "no lines are configured"
        case .fewerChannelsThanLines(let channels, let lines):
            "\(lines) lines are configured but the capture device has only \(channels) channels"
        case .channelOutOfRange(let line, let channel, let channels):
            "line \(line + 1) uses capture channel \(channel), but the device's channels are 0...\(channels - 1)"
        case .channelSharedByLines(let channel, let line):
            "capture channel \(channel) is used by line \(line + 1) and by an earlier line"
        }
    }
}
