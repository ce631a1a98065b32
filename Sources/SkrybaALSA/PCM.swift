import CALSA
import SkrybaCore

/// The stream settings Skryba asks of a PCM. Always interleaved S16_LE.
public struct PCMParameters: Equatable, Sendable {
    public var rate: Int
    public var channels: Int
    /// Frames per period: the unit the capture loop reads and the rings carry.
    public var periodFrames: Int
    /// Periods in the device buffer: how long the capture thread may stall before an overrun.
    public var periodsPerBuffer: Int

    public init(rate: Int, channels: Int, periodFrames: Int, periodsPerBuffer: Int = 8) {
        self.rate = rate
        self.channels = channels
        self.periodFrames = periodFrames
        self.periodsPerBuffer = periodsPerBuffer
    }
}

/// An open ALSA PCM, opened by name so `hw:CARD=…`, `plughw:…` and `type file` PCMs all work.
/// Owns the `snd_pcm_t` handle and closes it on deinit.
public final class PCM {
    public enum Stream: Sendable { case capture, playback }

    public let name: String
    public let stream: Stream
    /// The parameters the device accepted. The period may differ from the one asked for (alsa-lib
    /// picks the nearest it supports); rate, channels and format never do.
    public let parameters: PCMParameters
    /// What keeps time for this PCM (alsa-lib's plugin chain down to its leaf).
    public let clock: PCMClock
    let handle: OpaquePointer

    /// - Parameter configurationFile: look `name` up in this asound.conf only, instead of alsa-lib's
    ///   global configuration (ALSA_CONFIG_PATH or /usr/share/alsa/alsa.conf); the bench and the
    ///   simulator use it so they change nothing process-wide.
    public init(name: String, stream: Stream, parameters requested: PCMParameters, configurationFile: String? = nil) throws(ALSAError) {
        let pcm = try Self.open(name: name, stream: stream, mode: 0, configurationFile: configurationFile)
        clock = Self.clock(of: pcm)
        do {
            self.parameters = try Self.configure(pcm, name: name, stream: stream, requested: requested)
        } catch {
            snd_pcm_close(pcm)
            throw error
        }
        self.name = name
        self.stream = stream
        self.handle = pcm
    }

    deinit { snd_pcm_close(handle) }

    /// What keeps time for the PCM `name`, without configuring it: opens it (non-blocking, so a busy
    /// card is an error rather than a wait), asks alsa-lib, closes it. `skrybad` chooses its pacing
    /// from this before the capture starts.
    public static func clock(name: String, stream: Stream, configurationFile: String? = nil) throws(ALSAError) -> PCMClock {
        let pcm = try open(name: name, stream: stream, mode: SND_PCM_NONBLOCK, configurationFile: configurationFile)
        defer { snd_pcm_close(pcm) }
        return clock(of: pcm)
    }

    private static func open(name: String, stream: Stream, mode: Int32, configurationFile: String?) throws(ALSAError) -> OpaquePointer {
        _ = installALSAErrorCapture
        _ = takeLastALSAMessage()
        var pcm: OpaquePointer?
        let direction = stream == .capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK
        let purpose = "open the \(stream == .capture ? "capture" : "playback") device (is the PCM name right and the interface plugged in?)"
        if let configurationFile {
            let configuration = try Self.loadConfiguration(configurationFile, pcmName: name)
            defer { snd_config_delete(configuration) }
            try check(snd_pcm_open_lconf(&pcm, name, direction, mode, configuration), "snd_pcm_open_lconf", name, purpose)
        } else {
            try check(snd_pcm_open(&pcm, name, direction, mode), "snd_pcm_open", name, purpose)
        }
        guard let pcm else { throw ALSAError(function: "snd_pcm_open", code: -EINVAL, pcmName: name, context: "open the device") }
        return pcm
    }

    /// alsa-lib forwards `snd_pcm_info` through its plugins to the (first) slave, so a sound card
    /// anywhere at the bottom shows as its card number. It has no public call for a plugin's slave,
    /// but `snd_pcm_dump` of an unconfigured PCM names the chain ("File PCM … Slave: Null PCM"): a
    /// chain that ends in the null plugin and holds no card has no clock at all.
    static func clock(of pcm: OpaquePointer) -> PCMClock {
        let type = String(cString: snd_pcm_type_name(snd_pcm_type(pcm))).lowercased()
        var infoPointer: OpaquePointer?
        if snd_pcm_info_malloc(&infoPointer) == 0, let info = infoPointer {
            defer { snd_pcm_info_free(info) }
            if snd_pcm_info(pcm, info) == 0, snd_pcm_info_get_card(info) >= 0 {
                return .hardware(type: type, card: Int(snd_pcm_info_get_card(info)), name: String(cString: snd_pcm_info_get_name(info)))
            }
        }
        var output: OpaquePointer?
        var chain = ""
        if snd_output_buffer_open(&output) == 0, let output {
            defer { snd_output_close(output) }
            if snd_pcm_dump(pcm, output) == 0 {
                var text: UnsafeMutablePointer<CChar>?
                let length = snd_output_buffer_string(output, &text)
                if let text { chain = String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self) }
            }
        }
        if chain.contains("Null PCM") && !chain.contains("Hardware PCM") { return .none(type: type) }
        return .other(type: type, description: chain.split(separator: "\n").first.map(String.init) ?? type)
    }

    private static func loadConfiguration(_ path: String, pcmName: String) throws(ALSAError) -> OpaquePointer {
        var input: OpaquePointer?
        try check(snd_input_stdio_open(&input, path, "r"), "snd_input_stdio_open", pcmName, "read the ALSA configuration \(path)")
        defer { snd_input_close(input) }
        var configuration: OpaquePointer?
        try check(snd_config_top(&configuration), "snd_config_top", pcmName, "create an ALSA configuration")
        do {
            try check(snd_config_load(configuration, input), "snd_config_load", pcmName, "parse the ALSA configuration \(path)")
        } catch {
            snd_config_delete(configuration)
            throw error
        }
        return configuration!
    }

    private static func configure(_ pcm: OpaquePointer, name: String, stream: Stream, requested: PCMParameters) throws(ALSAError) -> PCMParameters {
        var hwPointer: OpaquePointer?
        try check(snd_pcm_hw_params_malloc(&hwPointer), "snd_pcm_hw_params_malloc", name, "allocate hardware parameters")
        guard let hw = hwPointer else { throw ALSAError(function: "snd_pcm_hw_params_malloc", code: -ENOMEM, pcmName: name, context: "allocate hardware parameters") }
        defer { snd_pcm_hw_params_free(hw) }

        try check(snd_pcm_hw_params_any(pcm, hw), "snd_pcm_hw_params_any", name, "read the device's capabilities")
        try check(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "snd_pcm_hw_params_set_access", name, "use interleaved access")
        try check(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE), "snd_pcm_hw_params_set_format", name, "use 16-bit little-endian samples (S16_LE)")
        try check(snd_pcm_hw_params_set_channels(pcm, hw, UInt32(requested.channels)), "snd_pcm_hw_params_set_channels", name,
                  "use \(requested.channels) channels\(Self.describeRange(pcm, hw, snd_pcm_hw_params_get_channels_min, snd_pcm_hw_params_get_channels_max, unit: "channels"))")
        // Exact rate: Skryba never lets alsa-lib resample behind its back (Opus runs at the line's native rate).
        try check(snd_pcm_hw_params_set_rate_resample(pcm, hw, 0), "snd_pcm_hw_params_set_rate_resample", name, "disable resampling")
        try check(snd_pcm_hw_params_set_rate(pcm, hw, UInt32(requested.rate), 0), "snd_pcm_hw_params_set_rate", name,
                  "use a sample rate of \(requested.rate) Hz\(Self.describeRateRange(pcm, hw))")
        var period = snd_pcm_uframes_t(requested.periodFrames)
        var direction: Int32 = 0
        try check(snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &direction), "snd_pcm_hw_params_set_period_size_near", name,
                  "use a period of \(requested.periodFrames) frames")
        var buffer = period * snd_pcm_uframes_t(max(2, requested.periodsPerBuffer))
        try check(snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer), "snd_pcm_hw_params_set_buffer_size_near", name,
                  "use a buffer of \(buffer) frames")
        try check(snd_pcm_hw_params(pcm, hw), "snd_pcm_hw_params", name, "apply the hardware parameters")
        try check(snd_pcm_hw_params_get_period_size(hw, &period, &direction), "snd_pcm_hw_params_get_period_size", name, "read back the period size")
        try check(snd_pcm_hw_params_get_buffer_size(hw, &buffer), "snd_pcm_hw_params_get_buffer_size", name, "read back the buffer size")

        var swPointer: OpaquePointer?
        try check(snd_pcm_sw_params_malloc(&swPointer), "snd_pcm_sw_params_malloc", name, "allocate software parameters")
        guard let sw = swPointer else { throw ALSAError(function: "snd_pcm_sw_params_malloc", code: -ENOMEM, pcmName: name, context: "allocate software parameters") }
        defer { snd_pcm_sw_params_free(sw) }
        try check(snd_pcm_sw_params_current(pcm, sw), "snd_pcm_sw_params_current", name, "read the software parameters")
        try check(snd_pcm_sw_params_set_avail_min(pcm, sw, period), "snd_pcm_sw_params_set_avail_min", name, "wake once per period")
        // Playback starts once a full buffer is queued (or at drain), so the first period never underruns.
        let startThreshold: snd_pcm_uframes_t = stream == .capture ? 1 : buffer
        try check(snd_pcm_sw_params_set_start_threshold(pcm, sw, startThreshold), "snd_pcm_sw_params_set_start_threshold", name, "set the start threshold")
        // Timestamps on the monotonic clock, so GPIO edges (kernel CLOCK_MONOTONIC) map onto frames.
        // Plugins without them (file, null) keep their defaults: only the board needs this.
        _ = snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE)
        _ = snd_pcm_sw_params_set_tstamp_type(pcm, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC)
        try check(snd_pcm_sw_params(pcm, sw), "snd_pcm_sw_params", name, "apply the software parameters")

        return PCMParameters(rate: requested.rate, channels: requested.channels, periodFrames: Int(period),
                             periodsPerBuffer: Int(buffer / max(period, 1)))
    }

    private static func describeRange(
        _ pcm: OpaquePointer, _ hw: OpaquePointer,
        _ minimum: (OpaquePointer?, UnsafeMutablePointer<UInt32>?) -> Int32,
        _ maximum: (OpaquePointer?, UnsafeMutablePointer<UInt32>?) -> Int32, unit: String
    ) -> String {
        var low: UInt32 = 0, high: UInt32 = 0
        guard minimum(hw, &low) >= 0, maximum(hw, &high) >= 0 else { return "" }
        return low == high ? " (the device offers only \(low) \(unit))" : " (the device offers \(low)...\(high) \(unit))"
    }

    private static func describeRateRange(_ pcm: OpaquePointer, _ hw: OpaquePointer) -> String {
        var low: UInt32 = 0, high: UInt32 = 0, lowDirection: Int32 = 0, highDirection: Int32 = 0
        guard snd_pcm_hw_params_get_rate_min(hw, &low, &lowDirection) >= 0,
              snd_pcm_hw_params_get_rate_max(hw, &high, &highDirection) >= 0 else { return "" }
        // alsa-lib reports open interval ends as (value, direction): 8001 with -1 means "below 8001".
        if lowDirection > 0 { low += 1 }
        if highDirection < 0 { high -= 1 }
        return low == high ? " (the device runs only at \(low) Hz)" : " (the device offers \(low)...\(high) Hz)"
    }

    /// A non-owning view for the capture thread: plain value, no reference counting. Valid while
    /// this `PCM` is alive.
    public func realtimeReader() -> PCMReader {
        precondition(stream == .capture, "realtimeReader() needs a capture PCM")
        return PCMReader(handle: handle, channels: parameters.channels)
    }

    /// Writes interleaved frames, blocking until the device accepted all of them. Recovers from
    /// underruns (counted in `underruns`).
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(ALSAError) {
        precondition(stream == .playback, "write(_:) needs a playback PCM")
        let channels = parameters.channels
        precondition(samples.count % channels == 0, "write(_:) takes whole frames")
        guard var cursor = samples.baseAddress else { return }
        var remaining = samples.count / channels
        while remaining > 0 {
            let written = snd_pcm_writei(handle, cursor, snd_pcm_uframes_t(remaining))
            if written < 0 {
                let code = Int32(written)
                if code == -EAGAIN { continue }
                try check(snd_pcm_recover(handle, code, 1), "snd_pcm_writei", name, "play audio into the line")
                underruns += 1
                continue
            }
            remaining -= Int(written)
            cursor += Int(written) * channels
        }
    }

    public private(set) var underruns = 0

    /// Plays out everything queued, then stops.
    public func drain() throws(ALSAError) {
        try check(snd_pcm_drain(handle), "snd_pcm_drain", name, "finish playing the queued audio")
    }
}

/// What keeps time for a PCM, found from alsa-lib's plugin chain.
public enum PCMClock: Equatable, Sendable {
    /// A sound card: the device delivers (or consumes) frames at its own rate. `type` is the
    /// alsa-lib plugin at the top ("hw", "plug", "file" …), `name` the card's PCM name.
    case hardware(type: String, card: Int, name: String)
    /// No clock of its own: the chain ends in the null plugin (an alsa-lib `type file` PCM over
    /// `slave.pcm { type null }`, as the simulator and tests use): it runs as fast as it is read or written.
    case none(type: String)
    /// Something else keeps time, e.g. a sound server through an I/O plugin (PipeWire, PulseAudio, JACK).
    case other(type: String, description: String)

    public var hasOwnClock: Bool { if case .none = self { false } else { true } }

    /// "an alsa-lib file PCM with no clock of its own", "sound card 0 (USB Audio) through an alsa-lib plug PCM".
    public var phrase: String {
        switch self {
        case .hardware(let type, let card, let name):
            "sound card \(card) (\(name))\(type == "hw" ? "" : " through an alsa-lib \(type) PCM"), which keeps its own clock"
        case .none(let type): "an alsa-lib \(type) PCM with no clock of its own"
        case .other(let type, let description): "an alsa-lib \(type) PCM (\(description)) that keeps its own time"
        }
    }
}

/// The capture thread's handle on a PCM: a trivial value (no ARC), reads with recovery inline.
public struct PCMReader: CaptureSource, @unchecked Sendable {
    let handle: OpaquePointer
    public let channels: Int

    @inlinable public func read(into buffer: UnsafeMutablePointer<Int16>, frames: Int) -> CaptureReadResult {
        readFrames(into: buffer, frames: frames)
    }

    /// The hardware pointer's timestamp (`snd_pcm_htimestamp`): frames read plus those waiting.
    public func streamTimestamp(position: UInt64) -> ClockAnchor? {
        var available: snd_pcm_uframes_t = 0
        var stamp = timespec()
        guard snd_pcm_htimestamp(handle, &available, &stamp) == 0, stamp.tv_sec > 0 else { return nil }
        return ClockAnchor(monotonicNanoseconds: UInt64(stamp.tv_sec) * 1_000_000_000 + UInt64(stamp.tv_nsec),
                           frame: position &+ UInt64(available))
    }

    @usableFromInline func readFrames(into buffer: UnsafeMutablePointer<Int16>, frames: Int) -> CaptureReadResult {
        let read = snd_pcm_readi(handle, buffer, snd_pcm_uframes_t(frames))
        if read >= 0 { return .frames(Int(read)) }
        let code = Int32(read)
        // -EPIPE: overrun; -ESTRPIPE: the system suspended. snd_pcm_recover handles both.
        if code == -EPIPE || code == -ESTRPIPE || code == -EINTR {
            let recovered = snd_pcm_recover(handle, code, 1)
            return recovered < 0 ? .failed(code: recovered) : .recoveredOverrun
        }
        if code == -EAGAIN { return .frames(0) }
        return .failed(code: code)
    }
}

/// Human-readable text for an alsa-lib error code (for reports after the capture thread stopped).
public func alsaErrorText(_ code: Int32) -> String { String(cString: snd_strerror(code)) }
