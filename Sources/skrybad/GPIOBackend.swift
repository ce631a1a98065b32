import SkrybaConfig
import SkrybaCore
import SkrybaGPIO

/// The board's ring/hook backend: libgpiod edge events, debounced, mapped onto the sample clock
/// through the anchor the capture thread publishes (docs/gpio.md).
enum GPIOBackend {
    static func make(_ configuration: SkrybaConfiguration, anchor: SampleClockAnchor) throws -> any LineSignalSource {
        let debounce = UInt64(configuration.gpio.debounceMs) * 1_000_000
        func wiring(_ pin: GPIOPin) -> GPIOInputWiring {
            GPIOInputWiring(chip: pin.chip, offset: pin.line,
                            settings: GPIOInputSettings(activeLow: pin.activeLow, bias: GPIOInputSettings.Bias(rawValue: pin.bias.rawValue) ?? .asIs),
                            debounceNanoseconds: debounce)
        }
        let lines = configuration.lines.compactMap { line -> GPIOLineWiring? in
            guard let ring = line.ring, let hook = line.hook else { return nil }  // validation guarantees both with gpiod
            return GPIOLineWiring(line: line.id, name: line.name, ring: wiring(ring), hook: wiring(hook))
        }
        return try GPIOLineSignals(lines: lines, anchor: anchor, sampleRate: configuration.audio.rate)
    }
}
