import Foundation
import Logging
import Testing
import SkrybaConfig
import SkrybaPipeline
import SkrybaSeal
import SkrybaService
import SkrybaStore
import SkrybaSystem

/// The USB audio interface pulled during a call (issue 10, item 2): reads fail as alsa-lib fails
/// them for a vanished device (the capture source's unplug switch; the real file PCM is closed and
/// opened again), the capture-device-gone alarm is raised while it is out and cleared when it is
/// back, recording resumes by itself, and the outage is a gap in the call's catalog row and file.
@Suite struct CaptureUnplugTests {
    static let identity = AgeIdentity()

    /// Signalled when the board raises or clears `kind`.
    final class AlarmWatch: @unchecked Sendable {
        let raised = DispatchSemaphore(value: 0)
        let cleared = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var messages: [String] = []
    }

    @Test func unpluggingTheCaptureMidCallRaisesTheAlarmAndTheRecordingResumesWithTheGap() throws {
        let work = try makeTemporaryDirectory(prefix: "skryba-unplug")
        let scenario = Scenario(announcement: "Rozmowa jest nagrywana.", lines: [Scenario.Line(id: 1, name: "Sekretariat")],
                                calls: [Scenario.Call(line: 1, direction: .outgoing, at: 0.5, dial: "600700800",
                                                      talk: ["Dzień dobry, oddzwaniam w sprawie wniosku."], hangUpAfter: 12)])
        let rendered = try ScenarioRenderer(scenario: scenario, directory: work).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(work)/data")
            .write(toFile: "\(work)/skryba.toml", atomically: true, encoding: .utf8)
        var options = Appliance.Options()
        options.stopAtFrame = rendered.frames
        options.simulation = true
        options.speed = 4
        options.clock = AssumedSynchronisedClock()
        options.alsaConfigurationFile = rendered.alsaConfiguration
        let appliance = try Appliance(configuration: try ConfigurationLoader.load(path: "\(work)/skryba.toml"), options: options)
        let runtime = ApplianceRuntime(appliance: appliance, logger: Logger(label: "skrybad"), notifier: nil)
        let recorder = appliance.recorder
        let watch = AlarmWatch()
        recorder.alarms.onRaised = { alarm, _ in
            watch.lock.withLock { watch.messages.append("raised \(alarm.kind.rawValue)") }
            if alarm.kind == .captureDeviceGone { watch.raised.signal() }
        }
        recorder.alarms.onCleared = { alarm, reason in
            watch.lock.withLock { watch.messages.append("cleared \(alarm.kind.rawValue): \(reason)") }
            if alarm.kind == .captureDeviceGone { watch.cleared.signal() }
        }
        let durable = DispatchSemaphore(value: 0)
        recorder.store.onDurable = { _, _, _ in durable.signal() }

        // The daemon's health check, at its own cadence, on its own thread.
        let running = DispatchSemaphore(value: 0)
        let healthDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while running.wait(timeout: .now() + .milliseconds(20)) == .timedOut { runtime.check() }
            healthDone.signal()
        }
        let finished = DispatchSemaphore(value: 0)
        let outcome = RunOutcome()
        Thread.detachNewThread {
            outcome.set(Result { try recorder.run() })
            finished.signal()
        }
        defer {
            recorder.captureHealth.simulateUnplug(false)
            running.signal()
            healthDone.wait()
        }
        try #require(durable.wait(timeout: .now() + 60) == .success, "the call never reached storage")
        recorder.captureHealth.simulateUnplug(true)
        try #require(watch.raised.wait(timeout: .now() + 10) == .success, "no capture-device-gone alarm: \(watch.messages)")
        let active = try #require(recorder.alarms.active.first { $0.alarm.kind == .captureDeviceGone })
        #expect(active.alarm.message.hasPrefix("the capture device skryba_sim_tap failed (No such device): is the USB audio interface connected?"))
        // The reopening keeps the watchdog fed: the capture thread is alive and doing its job.
        #expect(runtime.check()?.healthy == true)
        recorder.captureHealth.simulateUnplug(false)
        try #require(watch.cleared.wait(timeout: .now() + 10) == .success, "the alarm was not cleared: \(watch.messages)")
        #expect(recorder.captureHealth.outages == 1 && recorder.captureHealth.reopenAttempts >= 1)
        try #require(finished.wait(timeout: .now() + 60) == .success, "the run did not resume and end")
        let report = try #require(try outcome.get())
        #expect(report.end == "reached-frame-limit")

        let lost = recorder.captureHealth.lostFrames
        #expect(lost > 0)
        let rows = try appliance.catalog.recordings()
        let row = try #require(rows.first)
        #expect(rows.count == 1 && row.status == .complete, "\(rows.map(\.status))")
        #expect(row.gaps.count == 1 && row.gaps.first?.frames == lost, "\(row.gaps) vs \(lost) frames lost")
        #expect(row.endFrame == rendered.callFrames[0].onHook, "the call ends at its on-hook, on the sample clock")
        let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(work)/data/\(row.filePath!)")!),
                                                    identities: [Self.identity])
        #expect(opened.problem == nil)
        try Data(opened.plaintext).write(to: URL(fileURLWithPath: "\(work)/call.opus"))
        #expect(try Tool.opusdec("\(work)/call.opus").count == Int(row.endFrame! - row.startFrame), "silence fills the outage")
        #expect(report.alarms.contains { $0.kind == .recordingGap && $0.line == 1 })
        #expect(watch.messages.first { $0.hasPrefix("cleared capture-device-gone: the capture device is back; recording resumed (") } != nil)
    }
}

final class RunOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<CallRunReport, any Error>?
    func set(_ value: Result<CallRunReport, any Error>) { lock.withLock { result = value } }
    func get() throws -> CallRunReport? { try lock.withLock { result }?.get() }
}
