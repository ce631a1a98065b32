import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The console's input and output: the serial terminal in raw mode with `LineEditor`, or plain
/// lines from a pipe when standard input is not a terminal (so the console can be scripted).
public final class Terminal {
    public let isInteractive: Bool
    /// Whether the terminal says it shows colour (TERM) and NO_COLOR is not set.
    public let colour: Bool
    private let input: Int32
    private let output: Int32
    private var saved: termios?
    private var editor = LineEditor(prompt: "")
    private var pipeBuffer: [UInt8] = []
    private var pipeEnded = false

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.input = input
        self.output = output
        isInteractive = isatty(input) == 1
        colour = isatty(output) == 1 && Self.termShowsColour(environment)
    }

    deinit { restore() }

    /// "dumb", "vt220", "vt100" and an unset TERM get no colour; xterm, screen, tmux, linux, rxvt do.
    static func termShowsColour(_ environment: [String: String]) -> Bool {
        guard environment["NO_COLOR"] == nil, let term = environment["TERM"]?.lowercased() else { return false }
        return ["xterm", "screen", "tmux", "linux", "rxvt", "ansi", "konsole", "putty"].contains { term.hasPrefix($0) } || term.contains("color")
    }

    /// Raw mode: no echo, no line discipline, no signals from ^C ^Z ^\ (they reach the editor as
    /// bytes), CR not turned into LF; output processing stays on so "\n" still ends a line.
    public func enterRawMode() {
        guard isInteractive, saved == nil else { return }
        var attributes = termios()
        guard tcgetattr(input, &attributes) == 0 else { return }
        saved = attributes
        attributes.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        attributes.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR | IGNCR | BRKINT | ISTRIP)
        attributes.c_oflag |= tcflag_t(OPOST | ONLCR)
        withUnsafeMutableBytes(of: &attributes.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(input, TCSADRAIN, &attributes)
    }

    public func restore() {
        guard var attributes = saved else { return }
        tcsetattr(input, TCSADRAIN, &attributes)
        saved = nil
    }

    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(output, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }

    /// One line of text after `prompt`; nil at the end of input (^D, hang-up, end of the pipe).
    /// ^C abandons the line and asks again. Tab asks `complete` for the candidates of the word
    /// before the cursor (given the text before it).
    public func readLine(prompt: String, history: Bool = true, complete: ((String) -> [String])? = nil) -> String? {
        guard isInteractive else { return readPipedLine() }
        var lineEditor = history ? editor : LineEditor(prompt: prompt)
        lineEditor.prompt = prompt
        write(lineEditor.begin())
        defer { if history { editor = lineEditor } }
        while true {
            guard let byte = readByte() else { return nil }
            switch lineEditor.feed(byte) {
            case .editing(let output):
                write(output)
            case .line(let text, let output):
                write(output)
                return text
            case .cancelled(let output):
                write(output)
                write(lineEditor.begin())
            case .endOfInput(let output):
                write(output)
                return nil
            case .complete:
                guard let complete else { continue }
                let before = lineEditor.textBeforeCursor
                let candidates = complete(before)
                if candidates.count == 1 {
                    write(lineEditor.replaceWordBeforeCursor(with: candidates[0] + " "))
                } else if candidates.count > 1 {
                    let common = Self.commonPrefix(candidates)
                    let word = before.split(separator: " ", omittingEmptySubsequences: false).last.map(String.init) ?? ""
                    if common.count > word.count {
                        write(lineEditor.replaceWordBeforeCursor(with: common))
                    } else {
                        write("\r\n" + candidates.joined(separator: "  ") + "\r\n")
                        write(lineEditor.redrawAfterOutput())
                    }
                } else {
                    write("\u{07}")
                }
            }
        }
    }

    /// Waits up to `milliseconds` for a key; true when one was pressed (and consumed).
    public func keyPressed(within milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        _ = readByte()
        return true
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    private func readByte() -> UInt8? {
        var byte: UInt8 = 0
        while true {
            let got = Glibc.read(input, &byte, 1)
            if got == 1 { return byte }
            if got < 0, errno == EINTR { continue }
            return nil
        }
    }

    private func readPipedLine() -> String? {
        while true {
            if let newline = pipeBuffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(pipeBuffer[..<newline])
                pipeBuffer.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if pipeEnded {
                guard !pipeBuffer.isEmpty else { return nil }
                defer { pipeBuffer = [] }
                return String(decoding: pipeBuffer, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if got < 0, errno == EINTR { continue }
            if got <= 0 { pipeEnded = true } else { pipeBuffer += chunk[0..<got] }
        }
    }
}
