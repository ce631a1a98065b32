import Foundation
import SkrybaSystem

/// What retention, holds, secured copies and data-subject rights refuse or fail at, in words a
/// clerk or technician can act on. Each refusal says what was not done ("nothing was held").
public enum RetentionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchRecording(RecordingID, nothingDone: String)
    case recordingDeleted(RecordingID, at: Date, rule: String, nothingDone: String)
    /// A recording whose deletion has begun (it will be finished by the next run or fsck).
    case recordingBeingDeleted(RecordingID, rule: String, nothingDone: String)
    case recordingDiscarded(RecordingID, nothingDone: String)
    case recordingInProgress(RecordingID, nothingDone: String)
    case recordingHasNoFile(RecordingID, nothingDone: String)
    case holdMatchesNothing(line: Int, from: Date, to: Date)
    case noSuchHold(String)
    case holdReleased(String, at: Date)
    /// The hold belongs to a secured copy: it ends with the copy.
    case holdOfSecuredCopy(String, sequence: Int64)
    case held(RecordingID, caseReferences: [String], refused: String, nothingDone: String)
    case lateCopyRequest(RecordingID, callStart: Date, lastDay: String, received: Date)
    case noSuchCopy(Int64)
    case copyDestroyed(Int64, at: Date)
    case copyLapsed(Int64, at: Date)
    case copyNotMade(Int64)
    case invalid(String)
    case file(FileError)

    public var description: String {
        switch self {
        case .noSuchRecording(let id, let nothing):
            "recording \(id) does not exist; \(nothing)"
        case .recordingDeleted(let id, let at, let rule, let nothing):
            "recording \(id) was deleted on \(UTCTimestamp.string(from: at)) (\(rule)); \(nothing)"
        case .recordingBeingDeleted(let id, let rule, let nothing):
            "recording \(id) is being deleted (\(rule)); \(nothing)"
        case .recordingDiscarded(let id, let nothing):
            "recording \(id) was discarded (the caller did not consent) and has no audio; \(nothing)"
        case .recordingInProgress(let id, let nothing):
            "recording \(id) is still being recorded; try again when the call has ended; \(nothing)"
        case .recordingHasNoFile(let id, let nothing):
            "recording \(id) has no audio file (it stopped before any audio reached the flash); \(nothing)"
        case .holdMatchesNothing(let line, let from, let to):
            "no recording on line \(line) between \(UTCTimestamp.string(from: from)) and \(UTCTimestamp.string(from: to)) (UTC); nothing was held"
        case .noSuchHold(let reference):
            "no hold '\(reference)'; nothing was released"
        case .holdReleased(let reference, let at):
            "hold '\(reference)' was released on \(UTCTimestamp.string(from: at)); a case reference is not reused, choose another one"
        case .holdOfSecuredCopy(let reference, let sequence):
            "hold '\(reference)' keeps secured copy \(sequence); it ends when the copy is destroyed or lapses, not on its own"
        case .held(let id, let references, let refused, let nothing):
            "recording \(id) is held (\(references.joined(separator: ", "))); release the hold before \(refused) it; \(nothing)"
        case .lateCopyRequest(let id, let callStart, let lastDay, let received):
            "recording \(id) (call of \(WarsawTime.minute(callStart))): a request to secure it had to be made within 14 days, "
                + "by the end of \(lastDay), but this one was received on \(WarsawTime.minute(received)); nothing was secured "
                + "(to secure it anyway, give an override reason, which is logged)"
        case .noSuchCopy(let sequence):
            "no secured copy \(sequence) in the register"
        case .copyDestroyed(let sequence, let at):
            "secured copy \(sequence) was destroyed on \(UTCTimestamp.string(from: at)); a new request makes a new copy"
        case .copyLapsed(let sequence, let at):
            "secured copy \(sequence) lapsed on \(UTCTimestamp.string(from: at)) (4 months without renewal) and is being destroyed; a new request makes a new copy"
        case .copyNotMade(let sequence):
            "secured copy \(sequence) was never completed (interrupted while copying); run skryba fsck"
        case .invalid(let reason):
            reason
        case .file(let error):
            "\(error)"
        }
    }
}
