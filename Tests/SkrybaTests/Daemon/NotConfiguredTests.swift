import Foundation
import Testing
import SkrybaService
import SkrybaStore
import SkrybaSystem
#if canImport(Glibc)
import Glibc
#endif

/// A new appliance boots without /etc/skryba/skryba.toml: skrybad must neither fail (systemd would
/// restart it every few seconds) nor record; it makes the catalog and the device key and idles.
@Suite struct NotConfiguredTests {
    /// skrybad with `arguments`, once it has said its first line on stderr (the line, and the pipe for the rest).
    static func start(_ arguments: [String]) throws -> (Process, Pipe, String) {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Tool.product("skrybad"))
        daemon.arguments = arguments
        let errors = Pipe()
        daemon.standardError = errors
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        var text = ""
        while !text.hasSuffix("\n") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                kill(daemon.processIdentifier, SIGKILL)
                daemon.waitUntilExit()
                throw ToolFailure("skrybad ended instead of waiting: \(text)")
            }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return (daemon, errors, text)
    }

    @Test func withoutTheConfigurationFileItMakesTheDeviceKeyAndWaitsForSIGTERM() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-unconfigured")
        let missing = "\(directory)/etc/skryba.toml"
        let (daemon, _, text) = try Self.start(["--config", missing, "--data-dir", directory])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() } }
        let key = try DeviceKey.load(path: "\(directory)/\(DataLayout.deviceKey)")
        #expect(text == "skrybad: not configured: \(missing) does not exist, so nothing is recorded. Write it (the commented "
                + "template is /usr/share/skryba/skryba.toml.example, or the console's setup); once it is there skrybad exits with status 75 "
                + "to be started again with it. Device key fingerprint \(key.fingerprint).\n")
        #expect(daemon.isRunning)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/recordings"))
        let audit = try Catalog(dataDirectory: directory).audit.entries()
        #expect(audit.map { $0.kind } == [AuditKind.deviceKeyCreated.rawValue])

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0)
    }

    /// Unconfigured, its control socket answers the console (status with the device key to pin, the
    /// not-configured alarm, the log) and refuses what needs a configuration. The console's first
    /// setup then writes the file: skrybad exits with status 75 so that systemd (Restart=on-failure)
    /// starts it again with the configuration.
    @Test func itAnswersTheConsoleAndWhenTheConfigurationAppearsItExitsToBeStartedAgain() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-unconfigured-then")
        let config = "\(directory)/skryba.toml", socket = "\(directory)/control.sock"
        let (daemon, errors, text) = try Self.start(["--config", config, "--data-dir", directory, "--control-socket", socket, "--admin-group", "root"])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() } }
        #expect(text.hasPrefix("skrybad: not configured: "))
        // The socket is bound before the line above is written.
        let key = try DeviceKey.load(path: "\(directory)/\(DataLayout.deviceKey)")
        let status = try #require(try ControlClient.request("status", path: socket).status)
        #expect(status.state == "not-configured" && status.deviceKeyFingerprint == key.fingerprint && status.lines.isEmpty)
        #expect(status.alarms.map(\.kind) == ["not-configured"])
        let log = try ControlClient.request(ControlRequest(command: "log", count: 5), path: socket).log
        #expect(log?.map(\.kind) == [AuditKind.deviceKeyCreated.rawValue])
        let reload = try ControlClient.request("reload", path: socket)
        #expect(!reload.ok && reload.error == "skrybad is not configured (\(config) does not exist): nothing to reload until the console's setup writes it")
        let (_, console) = try ConsoleFixture.scripted("status\n", config: config, socket: socket)
        #expect(console.contains("skrybad: running\n") && console.contains(key.fingerprint), "\(console)")
        try "# written by the console's setup\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.waitUntilExit()
        let rest = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 75)
        #expect(rest == "skrybad: \(config) has appeared; exiting with status 75 so that the service starts again with it.\n")
    }
}
