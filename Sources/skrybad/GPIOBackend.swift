import SkrybaConfig
import SkrybaCore

/// The board's ring/hook backend (libgpiod), built from the configuration.
enum GPIOBackend {
    static func make(_ configuration: SkrybaConfiguration) throws -> any LineSignalSource {
        throw GPIOBackendUnavailable()
    }
}

struct GPIOBackendUnavailable: Error, CustomStringConvertible {
    var description: String { "the libgpiod backend is being integrated" }
}
