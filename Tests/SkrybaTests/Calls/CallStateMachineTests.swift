import Testing
import SkrybaCore

/// The call state machine as tables: a sequence of events, the actions each one produces.
@Suite struct CallStateMachineTests {
    typealias Step = (CallEvent, [CallAction])
    static let announcement: UInt64 = 80_000  // 10 s at 8 kHz

    func run(_ policy: LinePolicy, _ steps: [Step], sourceLocation: SourceLocation = #_sourceLocation) -> CallStateMachine {
        var machine = CallStateMachine(policy: policy)
        for (index, (event, expected)) in steps.enumerated() {
            #expect(machine.handle(event) == expected, "step \(index): \(event)", sourceLocation: sourceLocation)
        }
        return machine
    }

    static let both = LinePolicy(record: [.incoming, .outgoing], consent: .continueMeansConsent, announcementFrames: announcement)
    static let optOut = LinePolicy(record: [.incoming], consent: .optOutKey("9", windowFrames: 24_000), announcementFrames: announcement)

    @Test func anAnsweredIncomingCallIsAnnouncedThenRecordedFromItsOffHookFrame() {
        let machine = run(Self.both, [
            (.ringBurst(frame: 1000), []),
            (.callerNumber("221234567", frame: 9000), []),
            (.ringBurst(frame: 41_000), []),
            (.offHook(frame: 50_000), [.beginCapture(direction: .incoming, frame: 50_000, callerNumber: "221234567"),
                                       .playAnnouncement(frame: 50_000)]),
            (.tick(frame: 129_920), []),
            (.tick(frame: 130_080), [.commitRecording(frame: 130_000, consent: .given)]),
            (.dtmf("5", frame: 200_000), []),  // an incoming caller's keys are not kept
            (.onHook(frame: 400_000), [.finishRecording(frame: 400_000, consent: .given, announcementCompleted: true, dialedDigits: "")]),
        ])
        #expect(machine.state == .idle)
    }

    @Test func hangingUpDuringTheAnnouncementLeavesNothing() {
        _ = run(Self.both, [
            (.ringBurst(frame: 0), []),
            (.offHook(frame: 8000), [.beginCapture(direction: .incoming, frame: 8000, callerNumber: nil), .playAnnouncement(frame: 8000)]),
            (.onHook(frame: 40_000), [.stopAnnouncement(frame: 40_000),
                                      .discardCapture(frame: 40_000, consent: .hungUp, announcementCompleted: false)]),
        ])
    }

    @Test func theOptOutKeyDuringTheAnnouncementStopsItAndDiscards() {
        let machine = run(Self.optOut, [
            (.ringBurst(frame: 0), []),
            (.offHook(frame: 8000), [.beginCapture(direction: .incoming, frame: 8000, callerNumber: nil), .playAnnouncement(frame: 8000)]),
            (.dtmf("1", frame: 30_000), []),
            (.dtmf("9", frame: 40_000), [.stopAnnouncement(frame: 40_000),
                                         .discardCapture(frame: 40_000, consent: .objected, announcementCompleted: false)]),
            (.tick(frame: 200_000), []),
            (.onHook(frame: 300_000), []),
        ])
        #expect(machine.state == .idle)
    }

    @Test func theOptOutKeyWithinTheWindowAfterTheAnnouncementStillObjects() {
        _ = run(Self.optOut, [
            (.ringBurst(frame: 0), []),
            (.offHook(frame: 0), [.beginCapture(direction: .incoming, frame: 0, callerNumber: nil), .playAnnouncement(frame: 0)]),
            (.tick(frame: 80_000), []),                      // announcement over, window open until 104 000
            (.dtmf("9", frame: 100_000), [.discardCapture(frame: 100_000, consent: .objected, announcementCompleted: true)]),
        ])
    }

    @Test func afterTheWindowTheCallIsCommittedAsConsented() {
        _ = run(Self.optOut, [
            (.ringBurst(frame: 0), []),
            (.offHook(frame: 0), [.beginCapture(direction: .incoming, frame: 0, callerNumber: nil), .playAnnouncement(frame: 0)]),
            (.tick(frame: 104_160), [.commitRecording(frame: 104_000, consent: .given)]),
            (.dtmf("9", frame: 110_000), []),
            (.onHook(frame: 120_000), [.finishRecording(frame: 120_000, consent: .given, announcementCompleted: true, dialedDigits: "")]),
        ])
    }

    @Test func hangingUpInTheWindowAfterAFullAnnouncementIsConsent() {
        // The whole announcement was heard and the caller did not object: continuing was consent (R4).
        _ = run(Self.optOut, [
            (.ringBurst(frame: 0), []),
            (.offHook(frame: 0), [.beginCapture(direction: .incoming, frame: 0, callerNumber: nil), .playAnnouncement(frame: 0)]),
            (.tick(frame: 80_000), []),
            (.onHook(frame: 90_000), [.commitRecording(frame: 90_000, consent: .given),
                                      .finishRecording(frame: 90_000, consent: .given, announcementCompleted: true, dialedDigits: "")]),
        ])
    }

    @Test func anOutgoingCallIsRecordedAtOnceWithItsDigitsAndNotice() {
        let policy = LinePolicy(record: [.incoming, .outgoing], consent: .continueMeansConsent, announcementFrames: Self.announcement,
                                outgoingNoticeFrames: 4000, outgoingNoticeAfterDialPauseFrames: 24_000)
        _ = run(policy, [
            (.offHook(frame: 16_000), [.beginCapture(direction: .outgoing, frame: 16_000, callerNumber: nil),
                                       .commitRecording(frame: 16_000, consent: .notAsked)]),
            (.dtmf("1", frame: 24_000), []),
            (.dtmf("2", frame: 26_000), []),
            (.tick(frame: 49_920), []),
            (.tick(frame: 50_080), [.playOutgoingNotice(frame: 50_000)]),
            (.tick(frame: 60_000), []),
            (.onHook(frame: 96_000), [.finishRecording(frame: 96_000, consent: .notAsked, announcementCompleted: nil, dialedDigits: "12")]),
        ])
    }

    @Test func directionsThatAreNotRecordedLeaveNoTrace() {
        let incomingOnly = LinePolicy(record: [.incoming], consent: .continueMeansConsent, announcementFrames: Self.announcement)
        let machine = run(incomingOnly, [
            (.offHook(frame: 100), []),
            (.dtmf("1", frame: 2000), []),
            (.tick(frame: 1_000_000), []),
            (.onHook(frame: 3_000_000), []),
            (.ringBurst(frame: 3_100_000), []),
        ])
        #expect(machine.state == .ringing(callerNumber: nil))
    }

    @Test func ringingThatNobodyAnswersEndsQuietly() {
        let machine = run(Self.both, [
            (.ringBurst(frame: 0), []),
            (.callerNumber("600100200", frame: 10_000), []),
            (.ringingEnded(frame: 200_000), []),
            (.offHook(frame: 300_000), [.beginCapture(direction: .outgoing, frame: 300_000, callerNumber: nil),
                                        .commitRecording(frame: 300_000, consent: .notAsked)]),
        ])
        #expect(machine.state != .idle)
    }
}

@Suite struct RingCadenceTests {
    @Test func aBurstIsRingingAGlitchIsNot() {
        var cadence = RingCadence()  // 200 ms = 1600 frames
        #expect(cadence.edge(level: true, frame: 1000) == [])
        #expect(cadence.edge(level: false, frame: 1400) == [], "a 50 ms pulse is not ringing")
        #expect(cadence.advance(to: 100_000) == [])
        #expect(cadence.edge(level: true, frame: 100_000) == [])
        #expect(cadence.advance(to: 101_599) == [])
        #expect(cadence.advance(to: 101_600) == [.ringBurst(frame: 100_000)], "reported as soon as it is long enough, dated at its start")
        #expect(cadence.edge(level: false, frame: 108_000) == [])
        #expect(cadence.edge(level: true, frame: 140_000) == [])
        #expect(cadence.edge(level: false, frame: 148_000) == [.ringBurst(frame: 140_000)])
        #expect(cadence.advance(to: 211_999) == [])
        #expect(cadence.advance(to: 212_000) == [.ringingEnded(frame: 212_000)], "8 s after the last burst")
        #expect(!cadence.isRinging)
    }

    @Test func chatterInsideABurstIsOneBurst() {
        var cadence = RingCadence()
        var events: [CallEvent] = []
        events += cadence.edge(level: true, frame: 0)
        events += cadence.advance(to: 2000)
        events += cadence.edge(level: false, frame: 4000)
        events += cadence.edge(level: true, frame: 4010)  // bounce: a new burst would need 200 ms again
        events += cadence.edge(level: false, frame: 4020)
        events += cadence.advance(to: 60_000)
        #expect(events == [.ringBurst(frame: 0)])
    }
}
