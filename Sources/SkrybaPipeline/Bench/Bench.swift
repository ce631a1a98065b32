import Foundation
import SkrybaALSA
import SkrybaCapture
import SkrybaCore
import SkrybaOpus
import SkrybaSystem
import SkrybaSeal

/// `skryba bench`: the real pipeline (alsa-lib `file` PCM → capture thread → rings → line workers →
/// libopus → Ogg Opus → the storage service: sealed records, fsync'ed each second) over N copies of a mono WAV, as fast as
/// the CPU allows, measured side by side with bare libopus encoding the same audio with the same
/// settings, and optionally with the same pipeline unsealed (the cost of sealing).
public enum Bench {
    public struct Options: Sendable {
        public var input: String
        public var lines: Int
        public var seconds: Double
        public var rate: Int?
        public var opus = OpusSettings()
        public var outputDirectory: String?
        public var baseline = true
        public var realTime = false
        public var repeats = 1
        /// Seal to these recipients; empty → a throwaway key made for the run.
        public var recipients: [AgeRecipient] = []
        public var seal = true
        /// Also run the unsealed pipeline and report the sealing overhead.
        public var measureSealOverhead = false
        public var fsync = true

        public init(input: String, lines: Int, seconds: Double) {
            self.input = input
            self.lines = lines
            self.seconds = seconds
        }
    }

    public struct Measurement: Codable, Equatable, Sendable {
        public var cpuSeconds: Double
        public var wallSeconds: Double
        public var bytes: Int
        enum CodingKeys: String, CodingKey {
            case cpuSeconds = "cpu_seconds", wallSeconds = "wall_seconds", bytes
        }
    }

    public struct Report: Codable, Sendable {
        public var lines: Int
        public var rate: Int
        public var bitrate: Int
        public var complexity: Int
        public var pace: String
        public var audioSeconds: Double
        public var framesPerLine: UInt64
        public var pipeline: Measurement
        /// Audio seconds processed per CPU second (all threads): > 1 means faster than real time on one core.
        public var realtimeFactorPerCore: Double
        public var ringOverflowPeriods: UInt64
        public var ringOverflowFrames: UInt64
        public var xruns: UInt64
        public var lineFailures: [String]
        public var outputDirectory: String
        public var baseline: Measurement?
        /// Pipeline CPU ÷ bare libopus CPU on the same audio and settings.
        public var cpuRatioToLibopus: Double?
        public var realtimeScheduling: Bool
        public var sealed: Bool
        public var fsync: Bool
        /// The same pipeline writing plain .opus, when --seal-overhead was asked.
        public var unsealedPipeline: Measurement?
        /// Sealed pipeline CPU ÷ unsealed pipeline CPU.
        public var sealCPURatio: Double?
        /// Sealed bytes ÷ unsealed Ogg Opus bytes.
        public var sealBytesRatio: Double?

        enum CodingKeys: String, CodingKey {
            case lines, rate, bitrate, complexity, pace, pipeline, baseline, xruns
            case audioSeconds = "audio_seconds", framesPerLine = "frames_per_line"
            case realtimeFactorPerCore = "realtime_factor_per_core"
            case ringOverflowPeriods = "ring_overflow_periods", ringOverflowFrames = "ring_overflow_frames"
            case lineFailures = "line_failures", outputDirectory = "output_directory"
            case cpuRatioToLibopus = "cpu_ratio_to_libopus", realtimeScheduling = "realtime_scheduling"
            case sealed, fsync, unsealedPipeline = "unsealed_pipeline", sealCPURatio = "seal_cpu_ratio", sealBytesRatio = "seal_bytes_ratio"
        }
    }

    public static func run(_ options: Options) throws -> Report {
        let wav = try WAVFile.read(path: options.input)
        guard wav.channels == 1 else {
            throw BenchError("\(options.input): the bench takes mono speech, this file has \(wav.channels) channels (sox IN -c 1 OUT.wav)")
        }
        let rate = options.rate ?? wav.sampleRate
        guard wav.sampleRate == rate else {
            throw BenchError("\(options.input) is \(wav.sampleRate) Hz but --rate is \(rate): resample it first (sox IN -r \(rate) OUT.wav); the pipeline never resamples")
        }
        guard !wav.samples.isEmpty else { throw BenchError("\(options.input) has no samples") }
        guard (1...LineLayout.maximumChannels).contains(options.lines) else {
            throw BenchError("--lines \(options.lines) must be between 1 and \(LineLayout.maximumChannels)")
        }
        // The capture file holds every line for the whole run: one hour of audio at most.
        guard options.seconds.isFinite, options.seconds > 0, options.seconds <= 3600 else {
            throw BenchError("--seconds \(options.seconds) must be more than 0 and at most 3600")
        }
        let problems = options.opus.problems
        guard problems.isEmpty else { throw BenchError(problems.joined(separator: "; ")) }
        let layout = try LineLayout(rate: rate, lines: options.lines)

        let frames = UInt64((options.seconds * Double(rate)).rounded())
        guard frames * UInt64(options.lines) * 2 <= 1 << 30 else {
            throw BenchError("\(options.lines) lines of \(options.seconds) s make a capture file over 1 GiB: use fewer --lines or --seconds")
        }
        let work = try makeTemporaryDirectory(prefix: "skryba-bench")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let output = options.outputDirectory ?? "\(work)/out"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)

        // The capture device: N channels, each the input looped to the requested length.
        let raw = "\(work)/capture.raw"
        try writeInterleaved(mono: wav.samples, channels: options.lines, frames: Int(frames), to: raw)
        let configuration = "\(work)/asound.conf"
        try FilePCMDefinition.capture(name: "skryba_bench", infile: raw).write(toFile: configuration, atomically: true, encoding: .utf8)

        var recorder = RecorderConfiguration(
            pcmName: "skryba_bench", layout: layout, periodFrames: layout.samplesPerOpusFrame, opus: options.opus,
            frameLimit: frames, pacing: options.realTime ? .device : .waitForConsumers)
        recorder.alsaConfigurationFile = configuration
        recorder.realTimeSource = options.realTime
        let recipients = options.recipients.isEmpty ? [AgeIdentity().recipient] : options.recipients

        // Never inlined: tools/pipeline-instructions.sh counts this function as the pipeline's part of the main thread.
        @inline(never) func measure(_ makeStore: () -> any RecordingDestination) throws -> (Measurement, RecorderReport) {
            var best: (Measurement, RecorderReport)?
            for _ in 0..<max(1, options.repeats) {
                let store = makeStore()
                let before = CPUTime.now()
                let report = try ContinuousRecorder(configuration: recorder, store: store).run()
                let measurement = before.elapsed(bytes: report.bytesWritten)
                if best == nil || measurement.cpuSeconds < best!.0.cpuSeconds { best = (measurement, report) }
            }
            return best!
        }
        let plain: () -> any RecordingDestination = { PlainFileStore(directory: output, prefix: "bench-line", syncOnFlush: options.fsync) }
        let (pipeline, report) = options.seal
            ? try measure { SealedFileStore(directory: output, prefix: "bench-line", recipients: recipients, syncEachRecord: options.fsync) }
            : try measure(plain)
        let unsealed = options.seal && options.measureSealOverhead ? try measure(plain).0 : nil

        var baseline: Measurement?
        if options.baseline {
            for _ in 0..<max(1, options.repeats) {
                let measurement = try bareLibopus(mono: wav.samples, lines: options.lines, frames: Int(frames), rate: rate, settings: options.opus)
                if baseline == nil || measurement.cpuSeconds < baseline!.cpuSeconds { baseline = measurement }
            }
        }

        let audioSeconds = Double(frames) / Double(rate) * Double(options.lines)
        return Report(
            lines: options.lines, rate: rate, bitrate: options.opus.bitrate, complexity: options.opus.complexity,
            pace: options.realTime ? "realtime" : "max", audioSeconds: audioSeconds, framesPerLine: report.framesCaptured,
            pipeline: pipeline, realtimeFactorPerCore: audioSeconds / max(pipeline.cpuSeconds, 1e-9),
            ringOverflowPeriods: report.ringOverflows.reduce(0) { $0 + $1.periods },
            ringOverflowFrames: report.ringOverflows.reduce(0) { $0 + $1.frames },
            xruns: report.recoveredOverruns, lineFailures: report.lineFailures,
            outputDirectory: options.outputDirectory ?? "(temporary, removed)", baseline: baseline,
            cpuRatioToLibopus: baseline.map { pipeline.cpuSeconds / max($0.cpuSeconds, 1e-9) },
            realtimeScheduling: report.realtimeScheduling, sealed: options.seal, fsync: options.fsync,
            unsealedPipeline: unsealed, sealCPURatio: unsealed.map { pipeline.cpuSeconds / max($0.cpuSeconds, 1e-9) },
            sealBytesRatio: unsealed.map { Double(pipeline.bytes) / Double(max($0.bytes, 1)) })
    }

    /// libopus alone: the same encoder settings over the same samples, one 20 ms frame at a time,
    /// packets counted and dropped. The floor the pipeline is compared with.
    static func bareLibopus(mono: [Int16], lines: Int, frames: Int, rate: Int, settings: OpusSettings) throws -> Measurement {
        let frameSamples = rate / 50
        var looped = [Int16](repeating: 0, count: frames + frameSamples)
        for index in 0..<frames { looped[index] = mono[index % mono.count] }
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: OpusEncoder.maximumPacketBytes, alignment: 16)
        defer { packet.deallocate() }
        let before = CPUTime.now()
        var bytes = 0
        for _ in 0..<lines {
            let encoder = try OpusEncoder(sampleRate: rate, settings: settings)
            try looped.withUnsafeBufferPointer { samples in
                var offset = 0
                while offset < frames {
                    bytes += try encoder.encode(frame: samples.baseAddress! + offset, into: packet)
                    offset += frameSamples
                }
            }
        }
        return before.elapsed(bytes: bytes)
    }

    static func writeInterleaved(mono: [Int16], channels: Int, frames: Int, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BenchError("cannot create \(path)")
        }
        defer { try? handle.close() }
        let chunkFrames = 8000
        var chunk = [Int16](repeating: 0, count: chunkFrames * channels)
        var frame = 0
        while frame < frames {
            let count = min(chunkFrames, frames - frame)
            for index in 0..<count {
                let sample = Int16(littleEndian: mono[(frame + index) % mono.count])
                for channel in 0..<channels { chunk[index * channels + channel] = sample }
            }
            try handle.write(contentsOf: chunk[0..<count * channels].withUnsafeBytes { Data($0) })
            frame += count
        }
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Process CPU time (user + system, every thread) and wall time, for side-by-side measurements.
struct CPUTime {
    let cpu: Double
    let wall: Double

    static func now() -> CPUTime {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        var wall = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall)
        return CPUTime(cpu: cpu, wall: Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9)
    }

    func elapsed(bytes: Int) -> Bench.Measurement {
        let end = CPUTime.now()
        return Bench.Measurement(cpuSeconds: end.cpu - cpu, wallSeconds: end.wall - wall, bytes: bytes)
    }
}
